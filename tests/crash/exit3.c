/* A broken optimizer for tests/isolate2.sh: exit(3) at step 9. */
#include <stdlib.h>
#define CRASH_NAME "exit3"
#include "at9.h"

static void misbehave(void)
{
    exit(3);
}
