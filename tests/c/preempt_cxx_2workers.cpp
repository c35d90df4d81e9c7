// preempt_cxx.cpp again on two workers: the preempted threads (and the
// mutex holders among them) migrate between workers, keeping their
// thread_local data, exception state and locks.
// env: OPENCORO_WORKERS=2
// native: same
// timeout: 20
#include "preempt_cxx.cpp"
