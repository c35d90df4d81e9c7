// fork_runtime.c again with 4 workers: the forking coroutine (a green
// thread) may be on a worker thread other than the main thread, whose own
// descriptor glibc takes for a dead thread's in the child.
// native: same
// env: OPENCORO_WORKERS=4
// timeout: 30
#include "fork_runtime.c"
