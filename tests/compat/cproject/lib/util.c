#include <stdlib.h>
#include "util.h"

const char *reverse_copy(const char *s)
{
    int n = util_strlen(s);
    char *r = malloc(n + 1);
    for (int i = 0; i < n; i++)
        r[i] = s[n - 1 - i];
    r[n] = 0;
    return r;
}
