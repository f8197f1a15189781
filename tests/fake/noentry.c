/* Fake plugin: exports a misspelled entry point, so bp_plugin_entry is missing. */
#include <bprun/plugin.h>

const char *bp_plugin_entry_typo(void);
const char *bp_plugin_entry_typo(void)
{
    return "not a descriptor";
}
