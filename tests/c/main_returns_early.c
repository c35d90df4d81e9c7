// When main returns, the process exits with main's status at once, even
// though spawned coroutines are still sleeping (as threads would be killed).
// expect-status: 7
// timeout: 8
#include <stdio.h>
#include <unistd.h>
#include <opencoro.h>

static void *sleeper(void *arg) {
    (void)arg;
    sleep(30);
    printf("not reached: the sleeper woke up\n");
    return NULL;
}

int main(void) {
    for (int i = 0; i < 10; i++)
        if (!opencoro_spawn(sleeper, NULL, 0)) return 1;
    usleep(10000); /* let them start sleeping */
    printf("main returns 7\n");
    return 7;
}
