/* sgd - stochastic gradient descent with momentum, dampening, Nesterov momentum and weight
 * decay, exactly as torch.optim.SGD (_single_tensor_sgd, PyTorch 1.13-2.x), in float with
 * torch's operation order. One difference: lr defaults to 0.01 (torch 2.x: 1e-3).
 *
 * torch rejects nesterov without momentum > 0 and dampening 0 when the optimizer is built;
 * there is no validation slot in the ABI, so step refuses such values (returns -1). */
#include <bprun/plugin.h>

#include "bundled.h"

#include <math.h>
#include <stdio.h>

enum { LR, MOMENTUM, DAMPENING, NESTEROV, WEIGHT_DECAY };

static const bp_hparam sgd_hparams[] = {
    [LR] = { "lr", 0.01, 0.0, HUGE_VAL, BP_HP_MIN_OPEN, "learning rate (torch 2.x default: 1e-3)" },
    [MOMENTUM] = { "momentum", 0.0, 0.0, HUGE_VAL, BP_HP_REAL, "momentum factor" },
    [DAMPENING] = { "dampening", 0.0, 0.0, 1.0, BP_HP_REAL,
                    "dampening of the gradient in the momentum buffer (not on step 1, as torch)" },
    [NESTEROV] = { "nesterov", 0.0, 0.0, 1.0, BP_HP_BOOL,
                   "Nesterov momentum; needs momentum > 0 and dampening 0" },
    [WEIGHT_DECAY] = { "weight_decay", 0.0, 0.0, HUGE_VAL, BP_HP_REAL,
                       "L2 penalty: weight_decay * w is added to the gradient" },
};

/* torch: g += wd*w; buf = t == 1 ? g : momentum*buf + (1-dampening)*g;
 *        g = nesterov ? g + momentum*buf : buf; w += -lr*g.  State slot 0 is buf.
 * Each `x.add(y, alpha=c)` of torch runs as a fused multiply-add on CPUs with FMA (ATen's
 * vectorized add kernel uses vec::fmadd), so it is fmaf(c, y, x) here: the same bits as torch
 * on such CPUs, and the same bits on every machine (fmaf rounds once, by definition). */
/* The update loop. fmaf rounds once by definition, so a build where it is one instruction
 * gives the same bits as one where it is a libm call: on x86-64 the loop is also compiled for
 * x86-64-v3 (FMA, AVX2) and picked at run time, which inlines and vectorizes it (a libm call per
 * element was a fifth of a W2 step, docs/PERFORMANCE.md). */
/* One loop per combination of the flags, so that none of them is tested inside a loop (the
 * tested form did not vectorize: a W3 step spent 15% of its time here); every combination does
 * the very operations of torch's sequence above. */
#define SGD_BODY(FIRST, WD, MOM, NEST)                                                        \
    for (size_t i = 0; i < n; i++) {                                                          \
        float g = grad[i];                                                                    \
        if (WD)                                                                               \
            g = fmaf(wd, w[i], g);                                                            \
        if (MOM) {                                                                            \
            float b = (FIRST) ? g : fmaf(keep, g, buf[i] * mom);                              \
            buf[i] = b;                                                                       \
            g = (NEST) ? fmaf(mom, b, g) : b;                                                 \
        }                                                                                     \
        w[i] = fmaf(neg_lr, g, w[i]);                                                         \
    }
#define SGD_LOOP(NAME, ATTR)                                                                  \
    ATTR static void NAME(float *restrict w, const float *restrict grad, float *restrict buf, \
                          size_t n, int first, float neg_lr, float mom, float keep, float wd,  \
                          int use_wd, int use_mom, int nesterov)                               \
    {                                                                                         \
        (void)buf;                                                                            \
        if (!use_mom) {                                                                       \
            if (use_wd)                                                                       \
                SGD_BODY(0, 1, 0, 0)                                                          \
            else                                                                              \
                SGD_BODY(0, 0, 0, 0)                                                          \
            return;                                                                           \
        }                                                                                     \
        switch ((first ? 4 : 0) | (use_wd ? 2 : 0) | (nesterov ? 1 : 0)) {                    \
        case 0: SGD_BODY(0, 0, 1, 0) break;                                                   \
        case 1: SGD_BODY(0, 0, 1, 1) break;                                                   \
        case 2: SGD_BODY(0, 1, 1, 0) break;                                                   \
        case 3: SGD_BODY(0, 1, 1, 1) break;                                                   \
        case 4: SGD_BODY(1, 0, 1, 0) break;                                                   \
        case 5: SGD_BODY(1, 0, 1, 1) break;                                                   \
        case 6: SGD_BODY(1, 1, 1, 0) break;                                                   \
        default: SGD_BODY(1, 1, 1, 1) break;                                                  \
        }                                                                                     \
    }

SGD_LOOP(sgd_loop, )
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define SGD_V3 1
SGD_LOOP(sgd_loop_v3, __attribute__((target("arch=x86-64-v3"), optimize("tree-vectorize"))))
#endif

static int sgd_step(const bp_step_args *a)
{
    const double *hp = a->hp;
    int nesterov = hp[NESTEROV] != 0.0;
    if (nesterov && (hp[MOMENTUM] <= 0.0 || hp[DAMPENING] != 0.0)) {
        if (a->err && a->err_size)
            snprintf(a->err, a->err_size,
                     "sgd: nesterov needs momentum > 0 and dampening 0 (got momentum %g, "
                     "dampening %g)", hp[MOMENTUM], hp[DAMPENING]);
        return -1;
    }
    const float neg_lr = (float)(-hp[LR]);
    const float mom = (float)hp[MOMENTUM];
    const float keep = (float)(1.0 - hp[DAMPENING]);
    const float wd = (float)hp[WEIGHT_DECAY];
    const int use_wd = hp[WEIGHT_DECAY] != 0.0, use_mom = hp[MOMENTUM] != 0.0;
#ifdef SGD_V3
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        sgd_loop_v3(a->w, a->g, a->state, a->n, a->t == 1, neg_lr, mom, keep, wd, use_wd,
                    use_mom, nesterov);
        return 0;
    }
#endif
    sgd_loop(a->w, a->g, a->state, a->n, a->t == 1, neg_lr, mom, keep, wd, use_wd, use_mom,
             nesterov);
    return 0;
}

static const bp_optimizer sgd_optimizer = {
    .size = sizeof(bp_optimizer),
    .n_hparams = sizeof sgd_hparams / sizeof sgd_hparams[0],
    .hparams = sgd_hparams,
    .n_state = 1,
    .flags = BP_OPT_ELEMENTWISE,
    .init_state = NULL,
    .step = sgd_step,
    .bundled = BP_BUNDLED_KEY,
};

static const bp_plugin sgd_plugin = {
    .abi = BP_PLUGIN_ABI,
    .size = sizeof(bp_plugin),
    .kind = BP_OPTIMIZER,
    .name = "sgd",
    .summary = "SGD with momentum, dampening, Nesterov and weight decay as torch.optim.SGD "
               "(lr default 0.01; torch 2.x uses 1e-3)",
    .u.optimizer = &sgd_optimizer,
};

BP_PLUGIN_EXPORT const bp_plugin *bp_plugin_entry(void)
{
    return &sgd_plugin;
}
