// io_shared_waiters with the default number of workers (one per CPU), so
// waiters of one fd may sit on different workers.
// native: same
// link: no
// timeout: 20
#include "io_shared_waiters.c"
