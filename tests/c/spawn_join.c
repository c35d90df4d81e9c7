// opencoro_spawn / opencoro_join basics: results come back; a NULL result
// pointer is allowed; bad calls fail the documented way (NULL fn -> NULL and
// EINVAL; join of NULL -> EINVAL; a coroutine joining itself -> EDEADLK);
// opencoro_active() is 1 in main and coroutines. (A second join of a handle:
// join_twice.)
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <opencoro.h>
#include "check.h"

static void *twice(void *arg) {
    usleep(1000);
    return (void *)((long)arg * 2);
}

static void *active(void *arg) {
    (void)arg;
    return (void *)(long)opencoro_active();
}

static opencoro_task *volatile self_handle;

static void *join_self(void *arg) {
    (void)arg;
    while (self_handle == NULL) opencoro_yield();
    return (void *)(long)opencoro_join(self_handle, NULL);
}

int main(void) {
    printf("active in main: %d\n", opencoro_active());

    opencoro_task *t[10];
    for (long i = 0; i < 10; i++) CHECK((t[i] = opencoro_spawn(twice, (void *)i, 0)) != NULL);
    long sum = 0;
    for (int i = 0; i < 10; i++) {
        void *r = NULL;
        CHECK(opencoro_join(t[i], &r) == 0);
        CHECKF((long)r == 2L * i, "coroutine %d returned %ld", i, (long)r);
        sum += (long)r;
    }
    printf("results: sum %ld\n", sum);

    opencoro_task *a = opencoro_spawn(active, NULL, 0);
    void *r = NULL;
    CHECK(a && opencoro_join(a, &r) == 0);
    printf("active in a coroutine: %ld\n", (long)r);

    opencoro_task *n = opencoro_spawn(twice, (void *)5, 0);
    CHECK(n && opencoro_join(n, NULL) == 0);
    printf("join with NULL result: ok\n");

    errno = 0;
    opencoro_task *bad = opencoro_spawn(NULL, NULL, 0);
    printf("spawn(NULL fn): %s, errno %s\n", bad ? "handle" : "NULL", errno == EINVAL ? "EINVAL" : "other");
    printf("join(NULL): %s\n", opencoro_join(NULL, NULL) == EINVAL ? "EINVAL" : "other");

    opencoro_task *s = opencoro_spawn(join_self, NULL, 0);
    CHECK(s != NULL);
    self_handle = s;
    CHECK(opencoro_join(s, &r) == 0);
    printf("self join: %s\n", (long)r == EDEADLK ? "EDEADLK" : "other");
    return 0;
}
