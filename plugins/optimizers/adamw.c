/* adamw - AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay, and optional
 * AMSGrad, exactly as torch.optim.AdamW (_single_tensor_adamw of PyTorch 1.13), in float with
 * torch's operation order: w *= 1 - lr*weight_decay before the Adam update, eps after the
 * square root. */
#include <bprun/plugin.h>

#include "bundled.h"

#include <math.h>

enum { LR, BETA1, BETA2, EPS, WEIGHT_DECAY, AMSGRAD };

static const bp_hparam adamw_hparams[] = {
    [LR] = { "lr", 1e-3, 0.0, HUGE_VAL, BP_HP_MIN_OPEN, "learning rate" },
    [BETA1] = { "beta1", 0.9, 0.0, 1.0, BP_HP_MAX_OPEN,
                "decay of the running mean of the gradient (torch betas[0])" },
    [BETA2] = { "beta2", 0.999, 0.0, 1.0, BP_HP_MAX_OPEN,
                "decay of the running mean of the squared gradient (torch betas[1])" },
    [EPS] = { "eps", 1e-8, 0.0, HUGE_VAL, BP_HP_REAL,
              "added to the denominator after the square root, for stability" },
    [WEIGHT_DECAY] = { "weight_decay", 0.01, 0.0, HUGE_VAL, BP_HP_REAL,
                       "decoupled decay: w *= 1 - lr * weight_decay each step (not L2)" },
    [AMSGRAD] = { "amsgrad", 0.0, 0.0, 1.0, BP_HP_BOOL,
                  "AMSGrad: normalize by the largest second moment seen so far" },
};

/* State slots: 0 = m (exp_avg), 1 = v (exp_avg_sq), 2 = max v (AMSGrad only).
 * torch, per step t:  w *= 1 - lr*wd;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g;
 *   vmax = max(vmax, v);  denom = sqrt(v or vmax) / sqrt(1 - b2^t) + eps;
 *   w += (-lr / (1 - b1^t)) * m / denom.
 * 1 - lr*wd and the bias corrections are computed in double, as torch does in Python; the rest
 * rounds as torch's CPU kernels with FMA (see adam.c). */
static int adamw_step(const bp_step_args *a)
{
    const double *hp = a->hp;
    const double t = (double)a->t;
    const float keep = (float)(1.0 - hp[LR] * hp[WEIGHT_DECAY]);
    const float neg_step = (float)(-(hp[LR] / (1.0 - pow(hp[BETA1], t))));
    const float bc2_sqrt = (float)sqrt(1.0 - pow(hp[BETA2], t));
    const float b1 = (float)hp[BETA1], one_b1 = (float)(1.0 - hp[BETA1]);
    const float b2 = (float)hp[BETA2], one_b2 = (float)(1.0 - hp[BETA2]);
    const float eps = (float)hp[EPS];
    const int amsgrad = hp[AMSGRAD] != 0.0;
    const size_t n = a->n;
    const size_t s = a->state_stride ? a->state_stride : n;
    float *w = a->w, *m = a->state, *v = a->state + s, *vmax = a->state + 2 * s;
    for (size_t i = 0; i < n; i++) {
        const float g = a->g[i];
        w[i] = w[i] * keep;
        m[i] = fmaf(one_b1, g, m[i] * b1);
        v[i] = fmaf(one_b2 * g, g, v[i] * b2);
        float vh = v[i];
        if (amsgrad) {
            /* torch.maximum propagates NaN */
            vmax[i] = isnan(vh) || vh > vmax[i] ? vh : vmax[i];
            vh = vmax[i];
        }
        float denom = sqrtf(vh) / bc2_sqrt + eps;
        w[i] = w[i] + neg_step * m[i] / denom;
    }
    return 0;
}

static const bp_optimizer adamw_optimizer = {
    .size = sizeof(bp_optimizer),
    .n_hparams = sizeof adamw_hparams / sizeof adamw_hparams[0],
    .hparams = adamw_hparams,
    .n_state = 3,
    .flags = BP_OPT_ELEMENTWISE,
    .init_state = NULL,
    .step = adamw_step,
    .bundled = BP_BUNDLED_KEY,
};

static const bp_plugin adamw_plugin = {
    .abi = BP_PLUGIN_ABI,
    .size = sizeof(bp_plugin),
    .kind = BP_OPTIMIZER,
    .name = "adamw",
    .summary = "AdamW/AMSGrad with decoupled weight decay as torch.optim.AdamW (Loshchilov & "
               "Hutter 2019; eps after the square root)",
    .u.optimizer = &adamw_optimizer,
};

BP_PLUGIN_EXPORT const bp_plugin *bp_plugin_entry(void)
{
    return &adamw_plugin;
}
