/* A noisy optimizer for tests/isolate2.sh: at step 9 it writes to standard output with printf,
 * puts and write(1, ...), then trains on like sgd. */
#include <stdio.h>
#include <unistd.h>
#define CRASH_NAME "print"
#include "at9.h"

static void misbehave(void)
{
    printf("PLUGIN-PRINTF\n");
    puts("PLUGIN-PUTS");
    fflush(stdout);
    if (write(1, "PLUGIN-WRITE\n", 13) < 0)
        return;
}
