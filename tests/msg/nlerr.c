/* Fake plugin (valid): an optimizer whose first step fails with a message of three lines and a
 * tab, as a careless plugin might write it. Used by tests/diverge.sh: bprun's note about the
 * failed trial must stay one line. Built into tests/msg/.libs, outside the search path. */
#include <bprun/plugin.h>
#include <stdio.h>

static int step(const bp_step_args *a)
{
    snprintf(a->err, a->err_size, "bad step\nsee the log\r\nfor\tdetails");
    return -1;
}

static const bp_hparam hps[] = {
    { "lr", 0.01, 0.0, 1.0, BP_HP_MIN_OPEN, "unused" },
};
static const bp_optimizer opt = { sizeof(bp_optimizer), 1, hps, 0, 0, NULL, step };
static const bp_plugin desc = { BP_PLUGIN_ABI, sizeof(bp_plugin), BP_OPTIMIZER, "fake_nlerr",
                                "fails its first step with a multi-line message",
                                { .optimizer = &opt } };

const bp_plugin *bp_plugin_entry(void)
{
    return &desc;
}
