/* tanh - the hyperbolic tangent f(z) = tanh(z) (torch.tanh), with f' = 1 - f^2 and
 * f'' = -2 f (1 - f^2) (LeCun et al., Efficient BackProp, 1998). tanh is bprun/vexp.h's
 * (within 2 ulp, also near 0), so each loop vectorizes, with an AVX2 clone. */
#include <bprun/plugin.h>

#include "bundled.h"

#include <bprun/vexp.h>

BP_VCLONES static void tanh_forward(const float *z, float *a, size_t n, const double *hp)
{
    (void)hp;
#pragma omp simd
    for (size_t i = 0; i < n; i++) /* z and a may be one array: element i reads z[i] only */
        a[i] = bp_vtanhf(z[i]);
}

BP_VCLONES static void tanh_derivative(const float *z, const float *a, float *d, size_t n,
                                       const double *hp)
{
    (void)z;
    (void)hp;
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float t = a[i];
        d[i] = 1.0f - t * t;
    }
}

BP_VCLONES static void tanh_second(const float *z, const float *a, float *d2, size_t n,
                                   const double *hp)
{
    (void)z;
    (void)hp;
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float t = a[i];
        d2[i] = -2.0f * t * (1.0f - t * t);
    }
}

static const bp_activation tanh_activation = {
    .size = sizeof(bp_activation),
    .n_hparams = 0,
    .hparams = NULL,
    .forward = tanh_forward,
    .derivative = tanh_derivative,
    .second = tanh_second,
    .bundled = BP_BUNDLED_KEY,
};

static const bp_plugin tanh_plugin = {
    .abi = BP_PLUGIN_ABI,
    .size = sizeof(bp_plugin),
    .kind = BP_ACTIVATION,
    .name = "tanh",
    .summary = "hyperbolic tangent as torch.tanh; f' = 1-f^2, f'' = -2f(1-f^2)",
    .u.activation = &tanh_activation,
};

BP_PLUGIN_EXPORT const bp_plugin *bp_plugin_entry(void)
{
    return &tanh_plugin;
}
