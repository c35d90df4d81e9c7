// thread_once.c again with OPENCORO_THREADS=os: its threads are real OS
// threads sharing the objects with main's coroutine under the library.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 10
// env: OPENCORO_THREADS=os OPENCORO_WARN_OS_THREADS=0
#include "thread_once.c"
