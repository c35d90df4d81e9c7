#include "calc.h"

long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

long sum_squares(int n)
{
    long s = 0;
    for (int i = 1; i <= n; i++)
        s += (long)i * i;
    return s;
}
