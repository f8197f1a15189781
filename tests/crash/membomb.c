/* A broken optimizer for tests/isolate2.sh: at step 9 it allocates and touches memory 1 MiB at
 * a time, forever, and writes through the NULL that malloc returns at the limit. */
#include <stdlib.h>
#include <string.h>
#define CRASH_NAME "membomb"
#include "at9.h"

static void misbehave(void)
{
    for (;;) {
        char *volatile p = malloc(1 << 20);
        memset(p, 1, 1 << 20); /* SIGSEGV once malloc fails */
    }
}
