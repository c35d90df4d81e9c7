// signal_timer_stress.c again with two workers (the signal lands on either).
// env: OPENCORO_WORKERS=2
// timeout: 60
#include "signal_timer_stress.c"
