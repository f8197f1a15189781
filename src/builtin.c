/* builtin.c - bprun's own activation plugins compiled in (builtin.h): each of
 * plugins/activations/NAME.c is built a second time with its entry renamed bp_builtin_NAME
 * (mk/predict.am). */
#include "autoconf.h"
#include "builtin.h"

const bp_plugin *bp_builtin_elu(void);
const bp_plugin *bp_builtin_gelu(void);
const bp_plugin *bp_builtin_identity(void);
const bp_plugin *bp_builtin_leaky_relu(void);
const bp_plugin *bp_builtin_relu(void);
const bp_plugin *bp_builtin_sigmoid(void);
const bp_plugin *bp_builtin_softplus(void);
const bp_plugin *bp_builtin_softsign(void);
const bp_plugin *bp_builtin_tanh(void);

size_t bp_builtin_activations(const bp_plugin **out, size_t cap)
{
    const bp_plugin *all[] = {
        bp_builtin_elu(),
        bp_builtin_gelu(),
        bp_builtin_identity(),
        bp_builtin_leaky_relu(),
        bp_builtin_relu(),
        bp_builtin_sigmoid(),
        bp_builtin_softplus(),
        bp_builtin_softsign(),
        bp_builtin_tanh(),
    };
    size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n && i < cap; i++)
        out[i] = all[i];
    return n;
}
