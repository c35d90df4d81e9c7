// A process-shared semaphore (sem_init with pshared in MAP_SHARED memory)
// posted by another process wakes main waiting on it while main has
// company (so the wait is not a plain blocking call), as without the library
// (multiprocessing's locks are such semaphores).
// native: same
// timeout: 10
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
static void *idle(void *a) { (void)a; sleep(3); return NULL; }
int main(void)
{
    sem_t *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    sem_init(s, 1, 0);                 /* process-shared, taken */
    pthread_t t;
    pthread_create(&t, NULL, idle, NULL); /* a second coroutine */
    pid_t p = fork();
    if (p == 0) { usleep(200000); sem_post(s); _exit(0); }
    sem_wait(s);                       /* posted by the child after 0.2 s */
    printf("woken by the other process\n");
    waitpid(p, NULL, 0);
    return 0;
}
