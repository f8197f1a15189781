/* A broken optimizer for tests/isolate2.sh: its load-time constructor calls exit(0) (dlopen
 * runs it); otherwise sgd. */
#include <stdlib.h>
#define CRASH_NAME "ctor_exit"
#include "at9.h"

static void misbehave(void)
{
}

__attribute__((constructor)) static void on_load(void)
{
    exit(0);
}
