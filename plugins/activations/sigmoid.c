/* sigmoid - the logistic function f(z) = 1 / (1 + exp(-z)) (torch.sigmoid), with
 * f' = f(1 - f) and f'' = f(1 - f)(1 - 2f) (Rumelhart, Hinton & Williams 1986).
 * Evaluated so that no |z| overflows: exp is only taken of -|z|. */
#include <bprun/plugin.h>

#include "bundled.h"

#include <bprun/vexp.h>

/* 1 / (1 + exp(-x)) for x >= 0, exp(x) / (1 + exp(x)) otherwise, so exp only sees -|x| and
 * never overflows (NaN gives NaN, which propagates). exp is bprun/vexp.h's: no call per
 * element, 4 or 8 lanes at a time (it and the division were nearly all of a 64-128-10 step). */
BP_VCLONES static void sigmoid_forward(const float *z, float *a, size_t n, const double *hp)
{
    (void)hp;
#pragma omp simd
    for (size_t i = 0; i < n; i++) { /* z and a may be one array: element i reads z[i] only */
        float x = z[i];
        float e = bp_vexpf(x >= 0.0f ? -x : x);
        a[i] = (x >= 0.0f ? 1.0f : e) / (1.0f + e);
    }
}

BP_VCLONES static void sigmoid_derivative(const float *z, const float *a, float *d, size_t n,
                                          const double *hp)
{
    (void)z;
    (void)hp;
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float s = a[i];
        d[i] = s * (1.0f - s);
    }
}

static void sigmoid_second(const float *z, const float *a, float *d2, size_t n, const double *hp)
{
    (void)z;
    (void)hp;
    for (size_t i = 0; i < n; i++) {
        float s = a[i];
        d2[i] = s * (1.0f - s) * (1.0f - 2.0f * s);
    }
}

static const bp_activation sigmoid_activation = {
    .size = sizeof(bp_activation),
    .n_hparams = 0,
    .hparams = NULL,
    .forward = sigmoid_forward,
    .derivative = sigmoid_derivative,
    .second = sigmoid_second,
    .bundled = BP_BUNDLED_KEY,
};

static const bp_plugin sigmoid_plugin = {
    .abi = BP_PLUGIN_ABI,
    .size = sizeof(bp_plugin),
    .kind = BP_ACTIVATION,
    .name = "sigmoid",
    .summary = "logistic sigmoid 1/(1+exp(-z)) as torch.sigmoid; f' = f(1-f), f'' = f(1-f)(1-2f)",
    .u.activation = &sigmoid_activation,
};

BP_PLUGIN_EXPORT const bp_plugin *bp_plugin_entry(void)
{
    return &sigmoid_plugin;
}
