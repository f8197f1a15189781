/* Shared by the broken optimizers of tests/isolate.sh and tests/isolate2.sh: plain gradient
 * descent (sgd's update) that calls misbehave() at step 9, the 1st step of epoch 5 with the
 * tests' configs. A file defines CRASH_NAME, includes this, then defines misbehave(). */
#include <bprun/plugin.h>

static void misbehave(void);

static const bp_hparam hp[] = { { "lr", 0.1, 0, 1e9, BP_HP_MIN_OPEN, "learning rate" } };

static int step(const bp_step_args *a)
{
    if (a->t == 9)
        misbehave();
    for (size_t i = 0; i < a->n; i++)
        a->w[i] -= (float)a->hp[0] * a->g[i];
    return 0;
}

static const bp_optimizer opt = { .size = sizeof(bp_optimizer), .n_hparams = 1, .hparams = hp,
                                  .step = step, .flags = BP_OPT_ELEMENTWISE };
static const bp_plugin desc = { .abi = BP_PLUGIN_ABI, .size = sizeof(bp_plugin),
                                .kind = BP_OPTIMIZER, .name = CRASH_NAME,
                                .summary = "test plugin: gradient descent that misbehaves at step 9",
                                .u.optimizer = &opt };

BP_PLUGIN_EXPORT const bp_plugin *bp_plugin_entry(void)
{
    return &desc;
}
