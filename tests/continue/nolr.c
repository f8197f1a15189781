/* Fake plugin (valid): an optimizer without an "lr" hyperparameter, so no schedule can drive
 * it (signSGD with a fixed step). Used by tests/continue.sh (--plugin-path tests/continue/.libs). */
#include <bprun/plugin.h>

static int step(const bp_step_args *a)
{
    float s = (float)a->hp[0];
    for (size_t i = 0; i < a->n; i++)
        a->w[i] -= a->g[i] > 0 ? s : a->g[i] < 0 ? -s : 0.0f;
    return 0;
}

static const bp_hparam hps[] = {
    { "step_size", 0.01, 0.0, 1.0, BP_HP_MIN_OPEN, "the fixed step" },
};
static const bp_optimizer opt = { sizeof(bp_optimizer), 1, hps, 0, 0, NULL, step, 0 };
static const bp_plugin desc = { BP_PLUGIN_ABI, sizeof(bp_plugin), BP_OPTIMIZER, "fake_nolr",
                                "signSGD without an lr hyperparameter", { .optimizer = &opt } };

const bp_plugin *bp_plugin_entry(void)
{
    return &desc;
}
