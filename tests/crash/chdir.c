/* A broken optimizer: chdir("/") at step 9, then it trains on like sgd (relative paths of the
 * process now point elsewhere). */
#include <unistd.h>
#define CRASH_NAME "chdir"
#include "at9.h"

static void misbehave(void)
{
    if (chdir("/") != 0)
        return;
}
