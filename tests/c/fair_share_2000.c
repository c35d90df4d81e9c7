// fair_share_sleeper beside 2,000 busy handler threads instead of 4 (a cache
// server's connection handlers beside its LRU maintainer): the maintenance
// thread, woken from its 1 ms sleep, must still get the mutex the handlers
// take constantly, with a median cycle under 5 ms (100 cycles here: about
// one in ten waits behind a convoy of handlers queued for the lock, some
// 0.4 to 4 s). Before the wake-up preemption of 6f2c76b it did not finish
// in 2 minutes. Under the library only: natively the maintainer starves
// here (`make bench-preempt`'s 2,000-thread row: 1 to 23 cycles of a 1 ms
// sleeper in 2 s, ~1,700 under the library).
// env: OPENCORO_WORKERS=2
// timeout: 120
#define HANDLERS 2000
#define CYCLES 100
#include "fair_share_sleeper.c"
