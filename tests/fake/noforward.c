/* Fake plugin: an activation whose required forward slot is NULL. */
#include <bprun/plugin.h>

static void der(const float *z, const float *a, float *d, size_t n, const double *hp)
{
    (void)z;
    (void)a;
    (void)hp;
    for (size_t i = 0; i < n; i++)
        d[i] = 1.0f;
}

static const bp_activation act = { sizeof(bp_activation), 0, NULL, NULL, der, NULL, 0 };
static const bp_plugin desc = { BP_PLUGIN_ABI, sizeof(bp_plugin), BP_ACTIVATION, "fake_noforward",
                                "no forward", { .activation = &act } };

const bp_plugin *bp_plugin_entry(void)
{
    return &desc;
}
