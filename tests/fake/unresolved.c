/* Fake plugin: calls a function no library defines (dlopen RTLD_NOW must fail). */
#include <bprun/plugin.h>

void bp_fake_undefined_function(float *a, size_t n);

static void fwd(const float *z, float *a, size_t n, const double *hp)
{
    (void)z;
    (void)hp;
    bp_fake_undefined_function(a, n);
}

static void der(const float *z, const float *a, float *d, size_t n, const double *hp)
{
    (void)z;
    (void)a;
    (void)hp;
    bp_fake_undefined_function(d, n);
}

static const bp_activation act = { sizeof(bp_activation), 0, NULL, fwd, der, NULL, 0 };
static const bp_plugin desc = { BP_PLUGIN_ABI, sizeof(bp_plugin), BP_ACTIVATION,
                                "fake_unresolved", "unresolved symbol", { .activation = &act } };

const bp_plugin *bp_plugin_entry(void)
{
    return &desc;
}
