/* A broken optimizer for tests/isolate2.sh: _exit(0) at step 9 (no exit handlers run). */
#include <unistd.h>
#define CRASH_NAME "uexit"
#include "at9.h"

static void misbehave(void)
{
    _exit(0);
}
