// rlimit_low_fds.c with the hard limit lowered to 64 too: the runtime's
// fds go to the upper part of the 64.
// native: same
// timeout: 20
#define LOWER_HARD 1
#include "rlimit_low_fds.c"
