// io_echo_integrity with every coroutine on one worker.
// env: OPENCORO_WORKERS=1
// args: 1000 262144
// link: yes
// timeout: 120
#include "io_echo_integrity.c"
