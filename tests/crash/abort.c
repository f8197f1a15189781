/* A broken optimizer for tests/isolate.sh: abort() at step 9. */
#include <stdlib.h>
#define CRASH_NAME "abort"
#include "at9.h"

static void misbehave(void)
{
    abort();
}
