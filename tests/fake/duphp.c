/* Fake plugin: an optimizer declaring the hyperparameter lr twice. */
#include <bprun/plugin.h>

static int step(const bp_step_args *a)
{
    for (size_t i = 0; i < a->n; i++)
        a->w[i] -= (float)a->hp[0] * a->g[i];
    return 0;
}

static const bp_hparam hps[] = {
    { "lr", 0.1, 0.0, 1.0, BP_HP_REAL, "learning rate" },
    { "lr", 0.2, 0.0, 1.0, BP_HP_REAL, "learning rate again" },
};
static const bp_optimizer opt = { sizeof(bp_optimizer), 2, hps, 0, 0, NULL, step, 0 };
static const bp_plugin desc = { BP_PLUGIN_ABI, sizeof(bp_plugin), BP_OPTIMIZER, "fake_duphp",
                                "duplicate hyperparameter", { .optimizer = &opt } };

const bp_plugin *bp_plugin_entry(void)
{
    return &desc;
}
