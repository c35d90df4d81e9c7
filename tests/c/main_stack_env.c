// OPENCORO_STACK_SIZE larger than RLIMIT_STACK also raises main's stack:
// with 32M and `ulimit -s 8192`, main can use a 24 MiB local array
// (main_stack_rlimit's program, run with these settings).
// env: OPENCORO_STACK_SIZE=32M
// ulimit-s: 8192
#include "main_stack_rlimit.c"
