/* signsgd.c - an out-of-tree bprun optimizer, built by tests/sdk.sh against the INSTALLED SDK:
 *     cc -shared -fPIC $(pkg-config --cflags bprun) signsgd.c -o signsgd.so
 * signSGD (Bernstein et al., ICML 2018): w -= lr * sign(g), with optional momentum on the
 * gradient before the sign (signum). One state slot per parameter (the momentum buffer). */
#include <bprun/plugin.h>

#include <math.h>

enum { LR, MOMENTUM };

static const bp_hparam signsgd_hparams[] = {
    [LR] = { "lr", 1e-3, 0.0, HUGE_VAL, BP_HP_MIN_OPEN, "step of every weight" },
    [MOMENTUM] = { "momentum", 0.0, 0.0, 1.0, BP_HP_MAX_OPEN,
                   "m = momentum*m + (1-momentum)*g; the sign of m is used (signum)" },
};

static int signsgd_step(const bp_step_args *a)
{
    const float lr = (float)a->hp[LR];
    const float mom = (float)a->hp[MOMENTUM], one_mom = (float)(1.0 - a->hp[MOMENTUM]);
    float *m = a->state; /* slot 0: the buffer of parameter i is m[i] (one slot, no stride) */
    for (size_t i = 0; i < a->n; i++) {
        float g = a->g[i];
        if (!isfinite(g)) {
            /* a->err holds a->err_size bytes; the host fails the trial with this message */
            const char msg[] = "signsgd: non-finite gradient";
            size_t k = 0;
            for (; a->err && k + 1 < a->err_size && k + 1 < sizeof msg; k++)
                a->err[k] = msg[k];
            if (a->err && a->err_size)
                a->err[k] = '\0';
            return -1;
        }
        m[i] = mom * m[i] + one_mom * g;
        a->w[i] -= m[i] > 0.0f ? lr : m[i] < 0.0f ? -lr : 0.0f;
    }
    return 0;
}

static const bp_optimizer signsgd_optimizer = {
    .size = sizeof(bp_optimizer),
    .n_hparams = sizeof signsgd_hparams / sizeof signsgd_hparams[0],
    .hparams = signsgd_hparams,
    .n_state = 1,
    .flags = BP_OPT_ELEMENTWISE,
    .init_state = NULL,
    .step = signsgd_step,
};

static const bp_plugin signsgd_plugin = {
    .abi = BP_PLUGIN_ABI,
    .size = sizeof(bp_plugin),
    .kind = BP_OPTIMIZER,
    .name = "signsgd",
    .summary = "signSGD/signum: w -= lr*sign(m) (Bernstein et al., ICML 2018)",
    .u.optimizer = &signsgd_optimizer,
};

BP_PLUGIN_EXPORT const bp_plugin *bp_plugin_entry(void)
{
    return &signsgd_plugin;
}
