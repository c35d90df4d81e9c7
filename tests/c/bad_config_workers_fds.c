// OPENCORO_WORKERS=600 under a soft fd limit of 1024 is refused at start
// with one "opencoro:" line (600 pollers would take 1,200 fds): the default
// is used and the program runs normally. Before, it was accepted and the
// process aborted later, when the fds ran out.
// env: OPENCORO_WORKERS=600
// ulimit-n: 1024
// link: yes
// expect-stderr-count: 1 opencoro:
// expect-stderr-count: 1 OPENCORO_WORKERS="600" is not valid
#include "bad_config_workers.c"
