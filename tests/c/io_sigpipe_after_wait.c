// io_sigpipe_default, with a write that first waits on a full pipe whose
// reader then closes: SIGPIPE still kills the process (status 141).
// env: OPENCORO_WORKERS=1
// expect-status: 141
// native: same
// link: no
// timeout: 20
#define WAIT_FIRST 1
#include "io_sigpipe_default.c"
