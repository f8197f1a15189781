/* A noisy optimizer for tests/isolate2.sh: its load-time constructor writes to standard output
 * (printf and write(1, ...)); otherwise sgd. */
#include <stdio.h>
#include <unistd.h>
#define CRASH_NAME "ctor_print"
#include "at9.h"

static void misbehave(void)
{
}

__attribute__((constructor)) static void on_load(void)
{
    printf("CTOR-PRINTF\n");
    fflush(stdout);
    if (write(1, "CTOR-WRITE\n", 11) < 0)
        return;
}
