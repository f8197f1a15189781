/* tanh - the hyperbolic tangent f(z) = tanh(z) (torch.tanh), with f' = 1 - f^2 and
 * f'' = -2 f (1 - f^2) (LeCun et al., Efficient BackProp, 1998). */
#include <bprun/plugin.h>

#include <math.h>

static void tanh_forward(const float *z, float *a, size_t n, const double *hp)
{
    (void)hp;
    for (size_t i = 0; i < n; i++)
        a[i] = tanhf(z[i]);
}

static void tanh_derivative(const float *z, const float *a, float *d, size_t n, const double *hp)
{
    (void)z;
    (void)hp;
    for (size_t i = 0; i < n; i++) {
        float t = a[i];
        d[i] = 1.0f - t * t;
    }
}

static void tanh_second(const float *z, const float *a, float *d2, size_t n, const double *hp)
{
    (void)z;
    (void)hp;
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
