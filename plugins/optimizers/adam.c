/* adam - Adam (Kingma & Ba, 2015) with optional AMSGrad (Reddi et al., 2018) and L2 weight decay,
 * exactly as torch.optim.Adam (_single_tensor_adam of PyTorch 1.13), in float with torch's
 * operation order: eps is added after the square root of the bias-corrected second moment.
 * PyTorch >= 2.0 updates the first moment with lerp_ (same value, other rounding), so results
 * agree with 2.x to rounding, and with 1.13 bit for bit (tested). */
#include <bprun/plugin.h>

#include "bundled.h"

#include <math.h>

enum { LR, BETA1, BETA2, EPS, WEIGHT_DECAY, AMSGRAD };

static const bp_hparam adam_hparams[] = {
    [LR] = { "lr", 1e-3, 0.0, HUGE_VAL, BP_HP_MIN_OPEN, "learning rate" },
    [BETA1] = { "beta1", 0.9, 0.0, 1.0, BP_HP_MAX_OPEN,
                "decay of the running mean of the gradient (torch betas[0])" },
    [BETA2] = { "beta2", 0.999, 0.0, 1.0, BP_HP_MAX_OPEN,
                "decay of the running mean of the squared gradient (torch betas[1])" },
    [EPS] = { "eps", 1e-8, 0.0, HUGE_VAL, BP_HP_REAL,
              "added to the denominator after the square root, for stability" },
    [WEIGHT_DECAY] = { "weight_decay", 0.0, 0.0, HUGE_VAL, BP_HP_REAL,
                       "L2 penalty: weight_decay * w is added to the gradient (not AdamW)" },
    [AMSGRAD] = { "amsgrad", 0.0, 0.0, 1.0, BP_HP_BOOL,
                  "AMSGrad: normalize by the largest second moment seen so far" },
};

/* State slots: 0 = m (exp_avg), 1 = v (exp_avg_sq), 2 = max v (AMSGrad only).
 * torch, per step t:  g += wd*w;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g;
 *   vmax = max(vmax, v);  denom = sqrt(v or vmax) / sqrt(1 - b2^t) + eps;
 *   w += (-lr / (1 - b1^t)) * m / denom.
 * The bias corrections are computed in double, as torch does in Python. Rounding follows
 * torch's CPU kernels on machines with FMA: `x.add(y, alpha=c)` is fmaf(c, y, x) (see sgd.c),
 * `x.addcmul(y, z, value=c)` is fmaf(c*y, z, x), `x.addcdiv(y, z, value=c)` is x + (c*y)/z. */
/* The update loop, also compiled for x86-64-v3 and picked at run time: fmaf (one rounding by
 * definition) becomes an instruction instead of a libm call, sqrtf needs no errno (its argument
 * is >= 0 or NaN), so the loop vectorizes, with the same bits (see sgd.c). */
/* One loop per combination of the flags (a flag tested inside the loop keeps it scalar). The
 * plugin is built with -fno-math-errno (mk/plugins.am; the optimize attribute below does not
 * reach sqrtf): sqrtf's errno is never read, its value is the same. */
#define ADAM_BODY(WD, AMS)                                                                     \
    for (size_t i = 0; i < n; i++) {                                                           \
        float g = gr[i];                                                                       \
        if (WD)                                                                                \
            g = fmaf(wd, w[i], g);                                                             \
        m[i] = fmaf(one_b1, g, m[i] * b1);                                                     \
        v[i] = fmaf(one_b2 * g, g, v[i] * b2);                                                 \
        float vh = v[i];                                                                       \
        if (AMS) {                                                                             \
            /* torch.maximum propagates NaN */                                                 \
            vmax[i] = isnan(vh) || vh > vmax[i] ? vh : vmax[i];                                \
            vh = vmax[i];                                                                      \
        }                                                                                      \
        float denom = sqrtf(vh) / bc2_sqrt + eps;                                              \
        w[i] = w[i] + neg_step * m[i] / denom;                                                 \
    }
#define ADAM_LOOP(NAME, ATTR)                                                                  \
    ATTR static void NAME(float *restrict w, const float *restrict gr, float *restrict m,       \
                          float *restrict v, float *restrict vmax, size_t n, float neg_step,    \
                          float bc2_sqrt, float b1, float one_b1, float b2, float one_b2,       \
                          float eps, float wd, int use_wd, int amsgrad)                         \
    {                                                                                          \
        if (amsgrad) {                                                                         \
            if (use_wd)                                                                        \
                ADAM_BODY(1, 1)                                                                \
            else                                                                               \
                ADAM_BODY(0, 1)                                                                \
        } else {                                                                               \
            (void)vmax;                                                                        \
            if (use_wd)                                                                        \
                ADAM_BODY(1, 0)                                                                \
            else                                                                               \
                ADAM_BODY(0, 0)                                                                \
        }                                                                                      \
    }

ADAM_LOOP(adam_loop, )
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define ADAM_V3 1
ADAM_LOOP(adam_loop_v3, __attribute__((target("arch=x86-64-v3"),
                                       optimize("tree-vectorize", "no-math-errno"))))
#endif

static int adam_step(const bp_step_args *a)
{
    const double *hp = a->hp;
    const double t = (double)a->t;
    const double step_size = hp[LR] / (1.0 - pow(hp[BETA1], t));
    const float neg_step = (float)(-step_size);
    const float bc2_sqrt = (float)sqrt(1.0 - pow(hp[BETA2], t));
    const float b1 = (float)hp[BETA1], one_b1 = (float)(1.0 - hp[BETA1]);
    const float b2 = (float)hp[BETA2], one_b2 = (float)(1.0 - hp[BETA2]);
    const float eps = (float)hp[EPS], wd = (float)hp[WEIGHT_DECAY];
    const int use_wd = hp[WEIGHT_DECAY] != 0.0, amsgrad = hp[AMSGRAD] != 0.0;
    const size_t n = a->n;
    const size_t s = a->state_stride ? a->state_stride : n;
    float *w = a->w, *m = a->state, *v = a->state + s, *vmax = a->state + 2 * s;
#ifdef ADAM_V3
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        adam_loop_v3(w, a->g, m, v, vmax, n, neg_step, bc2_sqrt, b1, one_b1, b2, one_b2, eps,
                     wd, use_wd, amsgrad);
        return 0;
    }
#endif
    adam_loop(w, a->g, m, v, vmax, n, neg_step, bc2_sqrt, b1, one_b1, b2, one_b2, eps, wd, use_wd,
              amsgrad);
    return 0;
}

static const bp_optimizer adam_optimizer = {
    .size = sizeof(bp_optimizer),
    .n_hparams = sizeof adam_hparams / sizeof adam_hparams[0],
    .hparams = adam_hparams,
    .n_state = 3,
    .flags = BP_OPT_ELEMENTWISE,
    .init_state = NULL,
    .step = adam_step,
    .bundled = BP_BUNDLED_KEY,
};

static const bp_plugin adam_plugin = {
    .abi = BP_PLUGIN_ABI,
    .size = sizeof(bp_plugin),
    .kind = BP_OPTIMIZER,
    .name = "adam",
    .summary = "Adam/AMSGrad with L2 weight decay as torch.optim.Adam (Kingma & Ba 2015; "
               "eps after the square root)",
    .u.optimizer = &adam_optimizer,
};

BP_PLUGIN_EXPORT const bp_plugin *bp_plugin_entry(void)
{
    return &adam_plugin;
}
