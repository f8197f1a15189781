/* leaky_relu - f(z) = z for z > 0, negative_slope * z otherwise (torch.nn.LeakyReLU; Maas,
 * Hannun & Ng 2013), f' = 1 for z > 0 else negative_slope (torch's choice at 0), f'' = 0.
 * Each loop is a select that vectorizes, with an AVX2 clone (bprun/vexp.h). */
#include <bprun/plugin.h>

#include "bundled.h"

#include <bprun/vexp.h>
#include <math.h>
#include <string.h>

static const bp_hparam leaky_hparams[] = {
    { "negative_slope", 0.01, 0.0, HUGE_VAL, BP_HP_REAL, "slope for z <= 0 (torch default 0.01)" },
};

BP_VCLONES static void leaky_forward(const float *z, float *a, size_t n, const double *hp)
{
    const float slope = (float)hp[0];
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        a[i] = z[i] > 0.0f ? z[i] : z[i] * slope; /* NaN * slope stays NaN */
}

BP_VCLONES static void leaky_derivative(const float *z, const float *a, float *d, size_t n,
                                        const double *hp)
{
    (void)a;
    const float slope = (float)hp[0];
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        d[i] = z[i] > 0.0f ? 1.0f : slope;
}

static void leaky_second(const float *z, const float *a, float *d2, size_t n, const double *hp)
{
    (void)z;
    (void)a;
    (void)hp;
    memset(d2, 0, n * sizeof *d2); /* all bits 0 is +0.0f */
}

static const bp_activation leaky_activation = {
    .size = sizeof(bp_activation),
    .n_hparams = 1,
    .hparams = leaky_hparams,
    .forward = leaky_forward,
    .derivative = leaky_derivative,
    .second = leaky_second,
    .bundled = BP_BUNDLED_KEY,
};

static const bp_plugin leaky_plugin = {
    .abi = BP_PLUGIN_ABI,
    .size = sizeof(bp_plugin),
    .kind = BP_ACTIVATION,
    .name = "leaky_relu",
    .summary = "leaky ReLU z > 0 ? z : negative_slope*z as torch.nn.LeakyReLU (Maas et al. 2013)",
    .u.activation = &leaky_activation,
};

BP_PLUGIN_EXPORT const bp_plugin *bp_plugin_entry(void)
{
    return &leaky_plugin;
}
