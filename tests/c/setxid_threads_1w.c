// setxid_threads.c again on one worker: the runtime's only thread of its
// own is then the monitor, and glibc installs its SIGSETXID handler only
// when that thread starts (the runtime must wrap it after that).
// native: same
// env: OPENCORO_WORKERS=1
// timeout: 20
#include "setxid_threads.c"
