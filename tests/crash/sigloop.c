/* A broken optimizer for tests/isolate2.sh: at step 9 it ignores and blocks SIGINT and
 * SIGTERM, then loops forever. */
#include <signal.h>
#define CRASH_NAME "sigloop"
#include "at9.h"

static void misbehave(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    sigprocmask(SIG_BLOCK, &s, NULL);
    for (volatile unsigned long k = 0;; k++)
        ; /* never returns */
}
