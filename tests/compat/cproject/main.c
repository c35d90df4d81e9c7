#include <stdio.h>
#include "calc.h"
#include "util.h"
#include "version.h"

int main(void)
{
    printf("app %s\n", VERSION);
    printf("fib(30) = %ld\n", fib(30));
    printf("sum of squares 1..100 = %ld\n", sum_squares(100));
    printf("reversed: %s\n", reverse_copy("coroutines"));
    return 0;
}
