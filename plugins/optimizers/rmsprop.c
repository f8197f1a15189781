/* rmsprop - RMSprop (Hinton, Coursera lecture 6e, 2012) with optional centering (Graves, 2013),
 * momentum and L2 weight decay, exactly as torch.optim.RMSprop (_single_tensor_rmsprop of
 * PyTorch 1.13), in float with torch's operation order: eps is added after the square root
 * (TensorFlow and Keras add it inside). */
#include <bprun/plugin.h>

#include "bundled.h"

#include <math.h>

enum { LR, ALPHA, EPS, WEIGHT_DECAY, MOMENTUM, CENTERED };

static const bp_hparam rmsprop_hparams[] = {
    [LR] = { "lr", 0.01, 0.0, HUGE_VAL, BP_HP_MIN_OPEN, "learning rate" },
    [ALPHA] = { "alpha", 0.99, 0.0, 1.0, BP_HP_REAL,
                "decay of the running mean of the squared gradient" },
    [EPS] = { "eps", 1e-8, 0.0, HUGE_VAL, BP_HP_REAL,
              "added to the denominator after the square root, for stability" },
    [WEIGHT_DECAY] = { "weight_decay", 0.0, 0.0, HUGE_VAL, BP_HP_REAL,
                       "L2 penalty: weight_decay * w is added to the gradient" },
    [MOMENTUM] = { "momentum", 0.0, 0.0, HUGE_VAL, BP_HP_REAL,
                   "momentum factor of the buffer of normalized gradients" },
    [CENTERED] = { "centered", 0.0, 0.0, 1.0, BP_HP_BOOL,
                   "normalize by the estimated variance (mean of g^2 minus squared mean of g)" },
};

/* State slots: 0 = square_avg, 1 = grad_avg (centered only), 2 = momentum buffer.
 * torch, per step:  g += wd*w;  sq = alpha*sq + (1-alpha)*g*g;
 *   centered: ga = alpha*ga + (1-alpha)*g;  avg = sqrt(sq - ga*ga) + eps;  else sqrt(sq) + eps;
 *   momentum > 0: buf = momentum*buf + g/avg;  w += -lr*buf;  else w += -lr*g/avg.
 * Rounding as torch's CPU kernels with FMA (see sgd.c, adam.c). */
static int rmsprop_step(const bp_step_args *a)
{
    const double *hp = a->hp;
    const float neg_lr = (float)(-hp[LR]);
    const float alpha = (float)hp[ALPHA], one_alpha = (float)(1.0 - hp[ALPHA]);
    const float eps = (float)hp[EPS], wd = (float)hp[WEIGHT_DECAY];
    const float mom = (float)hp[MOMENTUM];
    const int use_wd = hp[WEIGHT_DECAY] != 0.0, centered = hp[CENTERED] != 0.0;
    const int use_mom = hp[MOMENTUM] > 0.0;
    const size_t n = a->n;
    const size_t s = a->state_stride ? a->state_stride : n;
    float *w = a->w, *sq = a->state, *ga = a->state + s, *buf = a->state + 2 * s;
    for (size_t i = 0; i < n; i++) {
        float g = a->g[i];
        if (use_wd)
            g = fmaf(wd, w[i], g);
        sq[i] = fmaf(one_alpha * g, g, sq[i] * alpha);
        float avg;
        if (centered) {
            ga[i] = fmaf(one_alpha, g, ga[i] * alpha);
            avg = sqrtf(fmaf(-ga[i], ga[i], sq[i]));
        } else {
            avg = sqrtf(sq[i]);
        }
        avg = avg + eps;
        if (use_mom) {
            buf[i] = buf[i] * mom + g / avg;
            w[i] = fmaf(neg_lr, buf[i], w[i]);
        } else {
            w[i] = w[i] + neg_lr * g / avg;
        }
    }
    return 0;
}

static const bp_optimizer rmsprop_optimizer = {
    .size = sizeof(bp_optimizer),
    .n_hparams = sizeof rmsprop_hparams / sizeof rmsprop_hparams[0],
    .hparams = rmsprop_hparams,
    .n_state = 3,
    .flags = BP_OPT_ELEMENTWISE,
    .init_state = NULL,
    .step = rmsprop_step,
    .bundled = BP_BUNDLED_KEY,
};

static const bp_plugin rmsprop_plugin = {
    .abi = BP_PLUGIN_ABI,
    .size = sizeof(bp_plugin),
    .kind = BP_OPTIMIZER,
    .name = "rmsprop",
    .summary = "RMSprop, optionally centered, with momentum and L2 weight decay as "
               "torch.optim.RMSprop (Hinton 2012; eps after the square root, as torch)",
    .u.optimizer = &rmsprop_optimizer,
};

BP_PLUGIN_EXPORT const bp_plugin *bp_plugin_entry(void)
{
    return &rmsprop_plugin;
}
