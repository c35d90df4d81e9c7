// sleep_concurrent with four workers (more than the CPUs of a small machine).
// env: OPENCORO_WORKERS=4
// timeout: 20
// link: yes
#include "sleep_concurrent.c"
