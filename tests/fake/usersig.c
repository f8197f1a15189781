/* Fake plugin: a user's activation named "sigmoid", built outside bprun's plugins/ (no bundled
 * key): the logistic function by libm's expf, so its bits differ from bprun's sigmoid. bprun
 * must run it through the plugin ABI, never through its fused code for its own sigmoid
 * (tests/check_small). */
#include <bprun/plugin.h>

#include <math.h>

static void fwd(const float *z, float *a, size_t n, const double *hp)
{
    (void)hp;
    for (size_t i = 0; i < n; i++)
        a[i] = 1.0f / (1.0f + expf(-z[i]));
}

static void der(const float *z, const float *a, float *d, size_t n, const double *hp)
{
    (void)z;
    (void)hp;
    for (size_t i = 0; i < n; i++)
        d[i] = a[i] * (1.0f - a[i]);
}

static const bp_activation act = { .size = sizeof(bp_activation), .forward = fwd,
                                   .derivative = der };
static const bp_plugin desc = { BP_PLUGIN_ABI, sizeof(bp_plugin), BP_ACTIVATION, "sigmoid",
                                "a user's logistic sigmoid by libm expf", { .activation = &act } };

const bp_plugin *bp_plugin_entry(void)
{
    return &desc;
}
