/* An activation for tests/isolate2.sh (identity) whose load-time constructor calls exit(0)
 * when BP_TEST_CTOR_EXIT is set and prints to standard output when BP_TEST_CTOR_PRINT is set,
 * so a model can be trained with it first and then evaluated with `bprun eval`. */
#include <bprun/plugin.h>
#include <stdio.h>
#include <stdlib.h>

static void forward(const float *z, float *a, size_t n, const double *hp)
{
    (void)hp;
    for (size_t i = 0; i < n; i++)
        a[i] = z[i];
}

static void derivative(const float *z, const float *a, float *d, size_t n, const double *hp)
{
    (void)z;
    (void)a;
    (void)hp;
    for (size_t i = 0; i < n; i++)
        d[i] = 1.0f;
}

static const bp_activation act = { .size = sizeof(bp_activation), .forward = forward,
                                   .derivative = derivative };
static const bp_plugin desc = { .abi = BP_PLUGIN_ABI, .size = sizeof(bp_plugin),
                                .kind = BP_ACTIVATION, .name = "ctor_act",
                                .summary = "test plugin: identity whose constructor may exit or print",
                                .u.activation = &act };

BP_PLUGIN_EXPORT const bp_plugin *bp_plugin_entry(void)
{
    return &desc;
}

__attribute__((constructor)) static void on_load(void)
{
    if (getenv("BP_TEST_CTOR_EXIT"))
        exit(0);
    if (getenv("BP_TEST_CTOR_PRINT")) {
        printf("CTOR-PRINTF\n");
        fflush(stdout);
    }
}
