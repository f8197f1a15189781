/* elu - f(z) = z for z > 0, alpha (exp(z) - 1) otherwise (torch.nn.ELU; Clevert, Unterthiner &
 * Hochreiter 2016), f' = 1 for z > 0 else alpha exp(z) (alpha at 0, as torch), f'' = 0 for
 * z > 0 else alpha exp(z). expm1 keeps small negative z accurate; derivatives come from z.
 * exp and expm1 are bprun/vexp.h's, so each loop vectorizes (both sides are computed and one
 * is selected; the unused side may be inf), with an AVX2 clone. */
#include <bprun/plugin.h>

#include "bundled.h"

#include <bprun/vexp.h>
#include <math.h>

static const bp_hparam elu_hparams[] = {
    { "alpha", 1.0, 0.0, HUGE_VAL, BP_HP_REAL, "value approached for z -> -inf is -alpha" },
};

BP_VCLONES static void elu_forward(const float *z, float *a, size_t n, const double *hp)
{
    const float alpha = (float)hp[0];
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float x = z[i];
        a[i] = x > 0.0f ? x : alpha * bp_vexpm1f(x);
    }
}

BP_VCLONES static void elu_derivative(const float *z, const float *a, float *d, size_t n,
                                      const double *hp)
{
    (void)a;
    const float alpha = (float)hp[0];
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float x = z[i];
        d[i] = x > 0.0f ? 1.0f : alpha * bp_vexpf(x);
    }
}

BP_VCLONES static void elu_second(const float *z, const float *a, float *d2, size_t n,
                                  const double *hp)
{
    (void)a;
    const float alpha = (float)hp[0];
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float x = z[i];
        d2[i] = x > 0.0f ? 0.0f : alpha * bp_vexpf(x);
    }
}

static const bp_activation elu_activation = {
    .size = sizeof(bp_activation),
    .n_hparams = 1,
    .hparams = elu_hparams,
    .forward = elu_forward,
    .derivative = elu_derivative,
    .second = elu_second,
    .bundled = BP_BUNDLED_KEY,
};

static const bp_plugin elu_plugin = {
    .abi = BP_PLUGIN_ABI,
    .size = sizeof(bp_plugin),
    .kind = BP_ACTIVATION,
    .name = "elu",
    .summary = "ELU z > 0 ? z : alpha*(exp(z)-1) as torch.nn.ELU (Clevert et al. 2016)",
    .u.activation = &elu_activation,
};

BP_PLUGIN_EXPORT const bp_plugin *bp_plugin_entry(void)
{
    return &elu_plugin;
}
