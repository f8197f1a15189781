/* Fake plugin: the entry point returns NULL. */
#include <bprun/plugin.h>

const bp_plugin *bp_plugin_entry(void)
{
    return NULL;
}
