// many_coroutines with OPENCORO_GUARDED_STACKS=0: every stack is carved.
// env: OPENCORO_GUARDED_STACKS=0
// timeout: 60
// link: yes
#include "many_coroutines.c"
