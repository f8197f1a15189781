/* relu - the rectified linear unit f(z) = max(0, z) (torch.relu; Nair & Hinton 2010), with
 * f' = 1 for z > 0 else 0 (torch's choice at 0) and f'' = 0. NaN inputs stay NaN, -0 gives
 * +0. Each loop is a select that vectorizes, with an AVX2 clone (bprun/vexp.h). */
#include <bprun/plugin.h>

#include "bundled.h"

#include <bprun/vexp.h>
#include <string.h>

BP_VCLONES static void relu_forward(const float *z, float *a, size_t n, const double *hp)
{
    (void)hp;
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        a[i] = z[i] <= 0.0f ? 0.0f : z[i];
}

BP_VCLONES static void relu_derivative(const float *z, const float *a, float *d, size_t n,
                                       const double *hp)
{
    (void)a;
    (void)hp;
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        d[i] = z[i] > 0.0f ? 1.0f : 0.0f;
}

static void relu_second(const float *z, const float *a, float *d2, size_t n, const double *hp)
{
    (void)z;
    (void)a;
    (void)hp;
    memset(d2, 0, n * sizeof *d2); /* all bits 0 is +0.0f */
}

static const bp_activation relu_activation = {
    .size = sizeof(bp_activation),
    .n_hparams = 0,
    .hparams = NULL,
    .forward = relu_forward,
    .derivative = relu_derivative,
    .second = relu_second,
    .bundled = BP_BUNDLED_KEY,
};

static const bp_plugin relu_plugin = {
    .abi = BP_PLUGIN_ABI,
    .size = sizeof(bp_plugin),
    .kind = BP_ACTIVATION,
    .name = "relu",
    .summary = "rectified linear unit max(0, z) as torch.relu; f' = [z > 0], f'' = 0",
    .u.activation = &relu_activation,
};

BP_PLUGIN_EXPORT const bp_plugin *bp_plugin_entry(void)
{
    return &relu_plugin;
}
