// opencoro_active() is 1 in main and in coroutines (also after they sleep or
// yield) and 0 in a plain pthread (an OS thread: OPENCORO_THREADS=os; a
// green thread is a coroutine, see thread_green_count).
// env: OPENCORO_THREADS=os OPENCORO_WARN_OS_THREADS=0
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <opencoro.h>

static void *in_thread(void *arg) {
    (void)arg;
    usleep(100);
    return (void *)(long)opencoro_active();
}

static void *in_coroutine(void *arg) {
    (void)arg;
    int a = opencoro_active();
    usleep(100);
    opencoro_yield();
    return (void *)(long)(a + opencoro_active());
}

int main(void) {
    printf("main: %d\n", opencoro_active());
    usleep(100);
    printf("main after a sleep: %d\n", opencoro_active());
    opencoro_task *t = opencoro_spawn(in_coroutine, NULL, 0);
    void *r = NULL;
    if (!t || opencoro_join(t, &r) != 0) return 1;
    printf("coroutine, before and after suspending: %ld of 2\n", (long)r);
    pthread_t th;
    if (pthread_create(&th, NULL, in_thread, NULL) != 0) return 1;
    /* the thread never waits for a coroutine, so blocking here is fine */
    pthread_join(th, &r);
    printf("plain pthread: %ld\n", (long)r);
    return 0;
}
