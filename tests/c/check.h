/* check.h: the one assertion the C tests share.
 *
 * CHECK(cond) prints "check failed: <cond> (file:line)" to stdout, where it
 * makes the stdout comparison fail visibly, and exits with status 99. */
#ifndef OPENCORO_TEST_CHECK_H
#define OPENCORO_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            printf("check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            fflush(stdout);                                                  \
            _Exit(99);                                                       \
        }                                                                    \
    } while (0)

/* CHECKF(cond, fmt, ...) also prints the values that matter. */
#define CHECKF(cond, ...)                                                    \
    do {                                                                     \
        if (!(cond)) {                                                       \
            printf("check failed: %s (%s:%d): ", #cond, __FILE__, __LINE__); \
            printf(__VA_ARGS__);                                             \
            printf("\n");                                                    \
            fflush(stdout);                                                  \
            _Exit(99);                                                       \
        }                                                                    \
    } while (0)

#endif
