// main alone (a plain function: no thread, so not a task of the runtime)
// ends with pthread_exit(): its cleanup handler runs and the process exits
// with status 0, as natively (pthread_exit_main's program without its
// thread). The unwinding must stop above main's frame: the library's own
// frame below main cannot be unwound through.
// native: same
// timeout: 10
#define ALONE
#include "pthread_exit_main.c"
