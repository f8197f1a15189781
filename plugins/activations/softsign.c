/* softsign - f(z) = z / (1 + |z|) (torch.nn.Softsign; Bergstra et al. 2009), with
 * f' = 1 / (1 + |z|)^2 and f'' = -2 sign(z) / (1 + |z|)^3 (0 at z = 0, where it jumps).
 * Each loop vectorizes (fabsf is a bit mask, no call), with an AVX2 clone (bprun/vexp.h). */
#include <bprun/plugin.h>

#include "bundled.h"

#include <bprun/vexp.h>
#include <math.h>

BP_VCLONES static void softsign_forward(const float *z, float *a, size_t n, const double *hp)
{
    (void)hp;
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        a[i] = z[i] / (1.0f + fabsf(z[i]));
}

BP_VCLONES static void softsign_derivative(const float *z, const float *a, float *d, size_t n,
                                           const double *hp)
{
    (void)a;
    (void)hp;
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float q = 1.0f / (1.0f + fabsf(z[i])); /* = 1 - |f|; 0 for |z| = inf, no overflow */
        d[i] = q * q;
    }
}

BP_VCLONES static void softsign_second(const float *z, const float *a, float *d2, size_t n,
                                       const double *hp)
{
    (void)a;
    (void)hp;
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float x = z[i], q = 1.0f / (1.0f + fabsf(x));
        float s = x > 0.0f ? -2.0f : x < 0.0f ? 2.0f : 0.0f;
        d2[i] = s * q * q * q;
    }
}

static const bp_activation softsign_activation = {
    .size = sizeof(bp_activation),
    .n_hparams = 0,
    .hparams = NULL,
    .forward = softsign_forward,
    .derivative = softsign_derivative,
    .second = softsign_second,
    .bundled = BP_BUNDLED_KEY,
};

static const bp_plugin softsign_plugin = {
    .abi = BP_PLUGIN_ABI,
    .size = sizeof(bp_plugin),
    .kind = BP_ACTIVATION,
    .name = "softsign",
    .summary = "softsign z/(1+|z|) as torch.nn.Softsign; f' = 1/(1+|z|)^2, f'' = -2sign(z)/(1+|z|)^3",
    .u.activation = &softsign_activation,
};

BP_PLUGIN_EXPORT const bp_plugin *bp_plugin_entry(void)
{
    return &softsign_plugin;
}
