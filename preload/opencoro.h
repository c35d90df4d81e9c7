/* opencoro.h: the C API of libopencoro.so.
 *
 * Link nothing: run the program under LD_PRELOAD=libopencoro.so (or the
 * preload/opencoro launcher) and the symbols below resolve at run time. To
 * keep a program runnable without the library, look them up with
 * dlsym(RTLD_DEFAULT, "opencoro_spawn") and fall back when NULL.
 */
#ifndef OPENCORO_H
#define OPENCORO_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A coroutine handle; join it once. */
typedef struct opencoro_task opencoro_task;

/* Starts fn(arg) as a coroutine with a stack of stack_size bytes
 * (0: OPENCORO_STACK_SIZE, default 256 KiB). Valid from main, from any
 * coroutine and from a plain thread. Returns NULL with errno set on failure
 * (EINVAL: fn is NULL). */
opencoro_task *opencoro_spawn(void *(*fn)(void *), void *arg, size_t stack_size);

/* Waits for t to finish and stores fn's return value in *result (if result
 * is not NULL). Returns 0, EINVAL (NULL handle, or another join of t is in
 * progress) or EDEADLK (a coroutine joining itself). From a coroutine it
 * suspends only the caller; from a plain thread it blocks that thread.
 * A successful join releases t: as with pthread_join, using t afterwards
 * (joining it again) is undefined. */
int opencoro_join(opencoro_task *t, void **result);

/* Lets other coroutines run (sched_yield() outside a coroutine). */
void opencoro_yield(void);

/* 1 when called from a runtime coroutine, else 0. */
int opencoro_active(void);

#ifdef __cplusplus
}
#endif

#endif /* OPENCORO_H */
