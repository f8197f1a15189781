/* sigmoid - the logistic function f(z) = 1 / (1 + exp(-z)) (torch.sigmoid), with
 * f' = f(1 - f) and f'' = f(1 - f)(1 - 2f) (Rumelhart, Hinton & Williams 1986).
 * Evaluated so that no |z| overflows: exp is only taken of -|z|. */
#include <bprun/plugin.h>

#include <math.h>

static void sigmoid_forward(const float *z, float *a, size_t n, const double *hp)
{
    (void)hp;
    /* 1 / (1 + exp(-x)) for x >= 0, exp(x) / (1 + exp(x)) otherwise (also NaN for NaN, which
     * propagates). In blocks of 64, two passes: the expf calls, then the divisions, on local
     * arrays (z and a may be one array), so they vectorize: one division after each call was
     * most of the time left beside expf. */
    enum { BLK = 64 };
    if (n < 16) { /* a few units (XOR's 2-2-1): the plain loop, the same operations */
        for (size_t i = 0; i < n; i++) {
            float x = z[i];
            float ex = expf(x >= 0.0f ? -x : x);
            a[i] = (x >= 0.0f ? 1.0f : ex) / (1.0f + ex);
        }
        return;
    }
    float e[BLK], num[BLK];
    for (size_t i0 = 0; i0 < n; i0 += BLK) {
        size_t nb = n - i0 < BLK ? n - i0 : BLK;
        for (size_t j = 0; j < nb; j++) {
            float x = z[i0 + j];
            int pos = x >= 0.0f;
            e[j] = expf(pos ? -x : x);
            num[j] = pos ? 1.0f : 0.0f;
        }
        if (nb == BLK) {
            for (size_t j = 0; j < BLK; j++)
                num[j] = (num[j] != 0.0f ? 1.0f : e[j]) / (1.0f + e[j]);
        } else {
            for (size_t j = 0; j < nb; j++)
                num[j] = (num[j] != 0.0f ? 1.0f : e[j]) / (1.0f + e[j]);
        }
        for (size_t j = 0; j < nb; j++)
            a[i0 + j] = num[j];
    }
}

static void sigmoid_derivative(const float *z, const float *a, float *d, size_t n,
                               const double *hp)
{
    (void)z;
    (void)hp;
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
