#include "util.h"

int util_strlen(const char *s)
{
    int n = 0;
    while (s[n])
        n++;
    return n;
}
