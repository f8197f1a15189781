/* A broken optimizer for tests/isolate.sh: a segmentation fault at step 9. */
#define CRASH_NAME "segv"
#include "at9.h"

static void misbehave(void)
{
    volatile int *p = NULL;
    *p = 1; /* SIGSEGV */
}
