/* identity - the linear activation f(z) = z (torch.nn.Identity), f' = 1, f'' = 0. Each loop
 * vectorizes, with an AVX2 clone (bprun/vexp.h). */
#include <bprun/plugin.h>

#include "bundled.h"

#include <bprun/vexp.h>
#include <string.h>

BP_VCLONES static void identity_forward(const float *z, float *a, size_t n, const double *hp)
{
    (void)hp;
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        a[i] = z[i];
}

BP_VCLONES static void identity_derivative(const float *z, const float *a, float *d, size_t n,
                                           const double *hp)
{
    (void)z;
    (void)a;
    (void)hp;
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        d[i] = 1.0f;
}

static void identity_second(const float *z, const float *a, float *d2, size_t n, const double *hp)
{
    (void)z;
    (void)a;
    (void)hp;
    memset(d2, 0, n * sizeof *d2); /* all bits 0 is +0.0f */
}

static const bp_activation identity_activation = {
    .size = sizeof(bp_activation),
    .n_hparams = 0,
    .hparams = NULL,
    .forward = identity_forward,
    .derivative = identity_derivative,
    .second = identity_second,
    .bundled = BP_BUNDLED_KEY,
};

static const bp_plugin identity_plugin = {
    .abi = BP_PLUGIN_ABI,
    .size = sizeof(bp_plugin),
    .kind = BP_ACTIVATION,
    .name = "identity",
    .summary = "identity f(z) = z as torch.nn.Identity; f' = 1, f'' = 0",
    .u.activation = &identity_activation,
};

BP_PLUGIN_EXPORT const bp_plugin *bp_plugin_entry(void)
{
    return &identity_plugin;
}
