/* A broken optimizer for tests/isolate.sh: an endless loop at step 9. */
#define CRASH_NAME "hang"
#include "at9.h"

static void misbehave(void)
{
    for (volatile unsigned long k = 0;; k++)
        ; /* never returns */
}
