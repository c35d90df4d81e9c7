// capi_spawn_join_many.c with OPENCORO_SPAWN_OWN_TLS=0: C API coroutines
// that share their worker's thread-locals (the cheaper way) still spawn,
// run and join as before.
// env: OPENCORO_WORKERS=2 OPENCORO_SPAWN_OWN_TLS=0
// timeout: 60
// link: yes
#include "capi_spawn_join_many.c"
