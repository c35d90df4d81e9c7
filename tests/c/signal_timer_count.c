// signal_timer_stress.c with a handler that only counts, two workers: the
// drainer and the consumer wait all along, so the signal often lands on a
// worker inside the runtime. Before, the forwarding handler took the idle
// lock itself: a hang in 4 runs of 4.
// env: OPENCORO_WORKERS=2
// timeout: 60
#define COUNT_ONLY 1
#include "signal_timer_stress.c"
