/* adagrad - Adagrad (Duchi, Hazan & Singer, 2011) with learning-rate decay and L2 weight decay,
 * exactly as torch.optim.Adagrad (_single_tensor_adagrad of PyTorch 1.13), in float with
 * torch's operation order: eps is added after the square root of the accumulated squares. */
#include <bprun/plugin.h>

#include "bundled.h"

#include <math.h>

enum { LR, LR_DECAY, WEIGHT_DECAY, INITIAL_ACCUMULATOR_VALUE, EPS };

static const bp_hparam adagrad_hparams[] = {
    [LR] = { "lr", 0.01, 0.0, HUGE_VAL, BP_HP_MIN_OPEN, "learning rate" },
    [LR_DECAY] = { "lr_decay", 0.0, 0.0, HUGE_VAL, BP_HP_REAL,
                   "step t uses lr / (1 + (t - 1) * lr_decay)" },
    [WEIGHT_DECAY] = { "weight_decay", 0.0, 0.0, HUGE_VAL, BP_HP_REAL,
                       "L2 penalty: weight_decay * w is added to the gradient" },
    [INITIAL_ACCUMULATOR_VALUE] = { "initial_accumulator_value", 0.0, 0.0, HUGE_VAL, BP_HP_REAL,
                                    "starting value of the sum of squared gradients" },
    [EPS] = { "eps", 1e-10, 0.0, HUGE_VAL, BP_HP_REAL,
              "added to the denominator after the square root, for stability" },
};

/* State slot 0 is the running sum of squared gradients, starting at initial_accumulator_value
 * (torch.full_like(p, initial_accumulator_value), a float). */
static void adagrad_init(float *state, const float *w, size_t n, const double *hp)
{
    (void)w;
    const float v = (float)hp[INITIAL_ACCUMULATOR_VALUE];
    for (size_t i = 0; i < n; i++)
        state[i] = v;
}

/* torch, per step t:  g += wd*w;  clr = lr / (1 + (t-1)*lr_decay)  (double, as in Python);
 *   sum += g*g;  w += -clr * g / (sqrt(sum) + eps).
 * Rounding as torch's CPU kernels with FMA (see sgd.c, adam.c): add(alpha) and addcmul are one
 * fmaf, addcdiv(value=c) is w + (c*g)/std. */
static int adagrad_step(const bp_step_args *a)
{
    const double *hp = a->hp;
    const double clr = hp[LR] / (1.0 + (double)(a->t - 1) * hp[LR_DECAY]);
    const float neg_clr = (float)(-clr);
    const float eps = (float)hp[EPS], wd = (float)hp[WEIGHT_DECAY];
    const int use_wd = hp[WEIGHT_DECAY] != 0.0;
    float *w = a->w, *sum = a->state;
    for (size_t i = 0; i < a->n; i++) {
        float g = a->g[i];
        if (use_wd)
            g = fmaf(wd, w[i], g);
        sum[i] = fmaf(g, g, sum[i]);
        float std = sqrtf(sum[i]) + eps;
        w[i] = w[i] + neg_clr * g / std;
    }
    return 0;
}

static const bp_optimizer adagrad_optimizer = {
    .size = sizeof(bp_optimizer),
    .n_hparams = sizeof adagrad_hparams / sizeof adagrad_hparams[0],
    .hparams = adagrad_hparams,
    .n_state = 1,
    .flags = BP_OPT_ELEMENTWISE,
    .init_state = adagrad_init,
    .step = adagrad_step,
    .bundled = BP_BUNDLED_KEY,
};

static const bp_plugin adagrad_plugin = {
    .abi = BP_PLUGIN_ABI,
    .size = sizeof(bp_plugin),
    .kind = BP_OPTIMIZER,
    .name = "adagrad",
    .summary = "Adagrad with lr_decay and L2 weight decay as torch.optim.Adagrad (Duchi et al. "
               "2011; eps after the square root)",
    .u.optimizer = &adagrad_optimizer,
};

BP_PLUGIN_EXPORT const bp_plugin *bp_plugin_entry(void)
{
    return &adagrad_plugin;
}
