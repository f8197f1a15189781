/* softplus - f(z) = log(1 + exp(beta z)) / beta, and f(z) = z where beta z > threshold
 * (torch.nn.Softplus; Dugas et al. 2001), f' = sigmoid(beta z) (1 above the threshold),
 * f'' = beta sigmoid(beta z) (1 - sigmoid(beta z)) (0 above the threshold). exp and log1p
 * are bprun/vexp.h's, so each loop vectorizes (both sides are computed and one is selected;
 * the unused side may be inf), with an AVX2 clone. */
#include <bprun/plugin.h>

#include "bundled.h"

#include <bprun/vexp.h>
#include <math.h>

enum { BETA, THRESHOLD };

static const bp_hparam softplus_hparams[] = {
    [BETA] = { "beta", 1.0, 0.0, HUGE_VAL, BP_HP_MIN_OPEN, "sharpness: log(1+exp(beta*z))/beta" },
    [THRESHOLD] = { "threshold", 20.0, 0.0, HUGE_VAL, BP_HP_REAL,
                    "linear (f = z) where beta*z exceeds it" },
};

/* logistic function without overflow: exp only sees -|x| (as plugins/activations/sigmoid.c) */
static inline float sig(float x)
{
    float e = bp_vexpf(x >= 0.0f ? -x : x);
    return (x >= 0.0f ? 1.0f : e) / (1.0f + e);
}

BP_VCLONES static void softplus_forward(const float *z, float *a, size_t n, const double *hp)
{
    const float beta = (float)hp[BETA], th = (float)hp[THRESHOLD];
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float x = z[i], bz = x * beta;
        a[i] = bz > th ? x : bp_vlog1pf(bp_vexpf(bz)) / beta;
    }
}

BP_VCLONES static void softplus_derivative(const float *z, const float *a, float *d, size_t n,
                                           const double *hp)
{
    (void)a;
    const float beta = (float)hp[BETA], th = (float)hp[THRESHOLD];
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float bz = z[i] * beta;
        d[i] = bz > th ? 1.0f : sig(bz);
    }
}

BP_VCLONES static void softplus_second(const float *z, const float *a, float *d2, size_t n,
                                       const double *hp)
{
    (void)a;
    const float beta = (float)hp[BETA], th = (float)hp[THRESHOLD];
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float bz = z[i] * beta;
        float s = sig(bz);
        d2[i] = bz > th ? 0.0f : beta * s * (1.0f - s);
    }
}

static const bp_activation softplus_activation = {
    .size = sizeof(bp_activation),
    .n_hparams = 2,
    .hparams = softplus_hparams,
    .forward = softplus_forward,
    .derivative = softplus_derivative,
    .second = softplus_second,
    .bundled = BP_BUNDLED_KEY,
};

static const bp_plugin softplus_plugin = {
    .abi = BP_PLUGIN_ABI,
    .size = sizeof(bp_plugin),
    .kind = BP_ACTIVATION,
    .name = "softplus",
    .summary = "softplus log(1+exp(beta*z))/beta, linear above threshold, as torch.nn.Softplus",
    .u.activation = &softplus_activation,
};

BP_PLUGIN_EXPORT const bp_plugin *bp_plugin_entry(void)
{
    return &softplus_plugin;
}
