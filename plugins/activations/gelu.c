/* gelu - the tanh approximation of GELU (Hendrycks & Gimpel 2016; torch.nn.GELU(approximate=
 * 'tanh')): f(z) = z/2 (1 + tanh(u)), u = k (z + c z^3), k = sqrt(2/pi), c = 0.044715.
 * With t = tanh(u), u' = k (1 + 3c z^2), u'' = 6 k c z:
 *   f'  = (1 + t)/2 + z/2 (1 - t^2) u'
 *   f'' = (1 - t^2) (u' + z/2 (u'' - 2 t u'^2))
 * Where tanh saturates (1 - t^2 == 0) those terms are exactly 0; they are selected away so
 * that a huge z (z^3 = inf) cannot turn 0 * inf into NaN. tanh is bprun/vexp.h's, so each
 * loop vectorizes, with an AVX2 clone. */
#include <bprun/plugin.h>

#include "bundled.h"

#include <bprun/vexp.h>

#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_C 0.044715f

BP_VCLONES static void gelu_forward(const float *z, float *a, size_t n, const double *hp)
{
    (void)hp;
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float x = z[i];
        float t = bp_vtanhf(GELU_K * (x + GELU_C * x * x * x));
        a[i] = 0.5f * x * (1.0f + t);
    }
}

BP_VCLONES static void gelu_derivative(const float *z, const float *a, float *d, size_t n,
                                       const double *hp)
{
    (void)a;
    (void)hp;
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float x = z[i];
        float t = bp_vtanhf(GELU_K * (x + GELU_C * x * x * x));
        float s = 1.0f - t * t;
        float du = GELU_K * (1.0f + 3.0f * GELU_C * x * x);
        d[i] = 0.5f * (1.0f + t) + (s == 0.0f ? 0.0f : 0.5f * x * s * du);
    }
}

BP_VCLONES static void gelu_second(const float *z, const float *a, float *d2, size_t n,
                                   const double *hp)
{
    (void)a;
    (void)hp;
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float x = z[i];
        float t = bp_vtanhf(GELU_K * (x + GELU_C * x * x * x));
        float s = 1.0f - t * t;
        float du = GELU_K * (1.0f + 3.0f * GELU_C * x * x);
        float ddu = 6.0f * GELU_K * GELU_C * x;
        float v = s * (du + 0.5f * x * (ddu - 2.0f * t * du * du));
        d2[i] = s == 0.0f ? 0.0f : v;
    }
}

static const bp_activation gelu_activation = {
    .size = sizeof(bp_activation),
    .n_hparams = 0,
    .hparams = NULL,
    .forward = gelu_forward,
    .derivative = gelu_derivative,
    .second = gelu_second,
    .bundled = BP_BUNDLED_KEY,
};

static const bp_plugin gelu_plugin = {
    .abi = BP_PLUGIN_ABI,
    .size = sizeof(bp_plugin),
    .kind = BP_ACTIVATION,
    .name = "gelu",
    .summary = "GELU, tanh form z/2*(1+tanh(sqrt(2/pi)*(z+0.044715z^3))) as "
               "torch.nn.GELU(approximate='tanh') (Hendrycks & Gimpel 2016)",
    .u.activation = &gelu_activation,
};

BP_PLUGIN_EXPORT const bp_plugin *bp_plugin_entry(void)
{
    return &gelu_plugin;
}
