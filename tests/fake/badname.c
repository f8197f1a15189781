/* Fake plugin: a name that is not an identifier. */
#include <bprun/plugin.h>

static void fwd(const float *z, float *a, size_t n, const double *hp)
{
    (void)hp;
    for (size_t i = 0; i < n; i++)
        a[i] = z[i];
}

static void der(const float *z, const float *a, float *d, size_t n, const double *hp)
{
    (void)z;
    (void)a;
    (void)hp;
    for (size_t i = 0; i < n; i++)
        d[i] = 1.0f;
}

static const bp_activation act = { sizeof(bp_activation), 0, NULL, fwd, der, NULL, 0 };
static const bp_plugin desc = { BP_PLUGIN_ABI, sizeof(bp_plugin), BP_ACTIVATION, "Bad-Name",
                                "bad name", { .activation = &act } };

const bp_plugin *bp_plugin_entry(void)
{
    return &desc;
}
