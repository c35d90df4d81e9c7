// io_pipe_read built with _FORTIFY_SOURCE=2, so that its reads go through
// glibc's __read_chk entry point (the hook of that symbol suspends too).
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 20
#undef _FORTIFY_SOURCE
#define _FORTIFY_SOURCE 2
#include "io_pipe_read.c"
