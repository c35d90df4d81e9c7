long fib(int n);
long sum_squares(int n);
