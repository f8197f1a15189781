/* Fake plugin: an optimizer whose required step slot is NULL. */
#include <bprun/plugin.h>

static const bp_optimizer opt = { sizeof(bp_optimizer), 0, NULL, 0, 0, NULL, NULL, 0 };
static const bp_plugin desc = { BP_PLUGIN_ABI, sizeof(bp_plugin), BP_OPTIMIZER, "fake_nostep",
                                "no step", { .optimizer = &opt } };

const bp_plugin *bp_plugin_entry(void)
{
    return &desc;
}
