// getattr_coroutine on stacks carved without a guard page.
// env: OPENCORO_STACK_SIZE=192K OPENCORO_GUARDED_STACKS=0
// link: yes
#include "getattr_coroutine.c"
