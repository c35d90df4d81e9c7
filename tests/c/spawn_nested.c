// Coroutines spawn coroutines: a tree of depth 5 and fan-out 4 (1365 nodes)
// where every node spawns its children, joins them and returns the size of
// its subtree. Children sleep or yield, so parents really wait in join.
#include <stdio.h>
#include <unistd.h>
#include <opencoro.h>


static void *subtree(void *arg) {
    int depth = (int)(long)arg;
    if (depth == 0) {
        usleep(100);
        return (void *)1L;
    }
    opencoro_task *kids[4];
    for (int i = 0; i < 4; i++) {
        kids[i] = opencoro_spawn(subtree, (void *)(long)(depth - 1), 0);
        if (!kids[i]) return (void *)-100000L;
    }
    opencoro_yield();
    long n = 1;
    for (int i = 0; i < 4; i++) {
        void *r;
        if (opencoro_join(kids[i], &r) != 0) return (void *)-100000L;
        n += (long)r;
    }
    return (void *)n;
}

int main(void) {
    opencoro_task *root = opencoro_spawn(subtree, (void *)5L, 0);
    void *r = NULL;
    if (!root || opencoro_join(root, &r) != 0) return 1;
    printf("nodes: %ld\n", (long)r);
    return 0;
}
