/* adadelta - ADADELTA (Zeiler, 2012) with a learning rate and L2 weight decay, exactly as
 * torch.optim.Adadelta (_single_tensor_adadelta of PyTorch 1.13), in float with torch's
 * operation order: eps inside both square roots, as in the paper. */
#include <bprun/plugin.h>

#include "bundled.h"

#include <math.h>

enum { LR, RHO, EPS, WEIGHT_DECAY };

static const bp_hparam adadelta_hparams[] = {
    [LR] = { "lr", 1.0, 0.0, HUGE_VAL, BP_HP_MIN_OPEN,
             "coefficient that scales delta before it is applied (the paper has none: 1)" },
    [RHO] = { "rho", 0.9, 0.0, 1.0, BP_HP_REAL,
              "decay of the running means of squared gradients and squared updates" },
    [EPS] = { "eps", 1e-6, 0.0, HUGE_VAL, BP_HP_REAL,
              "added inside both square roots, for stability" },
    [WEIGHT_DECAY] = { "weight_decay", 0.0, 0.0, HUGE_VAL, BP_HP_REAL,
                       "L2 penalty: weight_decay * w is added to the gradient" },
};

/* State slots: 0 = square_avg (E[g^2]), 1 = acc_delta (E[dx^2]).
 * torch, per step:  g += wd*w;  sq = rho*sq + (1-rho)*g*g;
 *   delta = sqrt(acc + eps) / sqrt(sq + eps) * g;  acc = rho*acc + (1-rho)*delta*delta;
 *   w += -lr*delta.
 * Rounding as torch's CPU kernels with FMA (see sgd.c, adam.c). */
static int adadelta_step(const bp_step_args *a)
{
    const double *hp = a->hp;
    const float neg_lr = (float)(-hp[LR]);
    const float rho = (float)hp[RHO], one_rho = (float)(1.0 - hp[RHO]);
    const float eps = (float)hp[EPS], wd = (float)hp[WEIGHT_DECAY];
    const int use_wd = hp[WEIGHT_DECAY] != 0.0;
    const size_t n = a->n;
    const size_t s = a->state_stride ? a->state_stride : n;
    float *w = a->w, *sq = a->state, *acc = a->state + s;
    for (size_t i = 0; i < n; i++) {
        float g = a->g[i];
        if (use_wd)
            g = fmaf(wd, w[i], g);
        sq[i] = fmaf(one_rho * g, g, sq[i] * rho);
        float std = sqrtf(sq[i] + eps);
        float delta = sqrtf(acc[i] + eps) / std * g;
        acc[i] = fmaf(one_rho * delta, delta, acc[i] * rho);
        w[i] = fmaf(neg_lr, delta, w[i]);
    }
    return 0;
}

static const bp_optimizer adadelta_optimizer = {
    .size = sizeof(bp_optimizer),
    .n_hparams = sizeof adadelta_hparams / sizeof adadelta_hparams[0],
    .hparams = adadelta_hparams,
    .n_state = 2,
    .flags = BP_OPT_ELEMENTWISE,
    .init_state = NULL,
    .step = adadelta_step,
    .bundled = BP_BUNDLED_KEY,
};

static const bp_plugin adadelta_plugin = {
    .abi = BP_PLUGIN_ABI,
    .size = sizeof(bp_plugin),
    .kind = BP_OPTIMIZER,
    .name = "adadelta",
    .summary = "ADADELTA with lr and L2 weight decay as torch.optim.Adadelta (Zeiler 2012; "
               "eps inside both square roots)",
    .u.optimizer = &adadelta_optimizer,
};

BP_PLUGIN_EXPORT const bp_plugin *bp_plugin_entry(void)
{
    return &adadelta_plugin;
}
