/* rprop - Rprop (Riedmiller & Braun, 1993), the variant of torch.optim.Rprop (_single_tensor_rprop
 * of PyTorch 1.13; after a sign change the step is skipped and the stored gradient set to 0,
 * "Rprop-" without weight backtracking), in float. A full-batch method.
 *
 * lr is only the initial step size, as in torch: it fills the step sizes once (init_state), so a
 * learning-rate schedule has no effect on rprop. */
#include <bprun/plugin.h>

#include "bundled.h"

#include <math.h>
#include <stdio.h>

enum { LR, ETA_MINUS, ETA_PLUS, STEP_SIZE_MIN, STEP_SIZE_MAX };

static const bp_hparam rprop_hparams[] = {
    [LR] = { "lr", 0.01, 0.0, HUGE_VAL, BP_HP_MIN_OPEN,
             "initial step size of every weight (torch lr); schedules do not change it" },
    [ETA_MINUS] = { "eta_minus", 0.5, 0.0, 1.0, BP_HP_MIN_OPEN | BP_HP_MAX_OPEN,
                    "step size factor after a sign change (torch etas[0])" },
    [ETA_PLUS] = { "eta_plus", 1.2, 1.0, HUGE_VAL, BP_HP_MIN_OPEN,
                   "step size factor while the sign stays (torch etas[1])" },
    [STEP_SIZE_MIN] = { "step_size_min", 1e-6, 0.0, HUGE_VAL, BP_HP_REAL,
                        "smallest step size (torch step_sizes[0])" },
    [STEP_SIZE_MAX] = { "step_size_max", 50.0, 0.0, HUGE_VAL, BP_HP_REAL,
                        "largest step size (torch step_sizes[1]); at least step_size_min" },
};

/* State slots: 0 = prev (the gradient kept from the last step), 1 = step size (starts at lr). */
static void rprop_init(float *state, const float *w, size_t n, const double *hp)
{
    (void)w;
    const float lr = (float)hp[LR];
    for (size_t i = 0; i < n; i++) {
        state[i] = 0.0f;
        state[n + i] = lr;
    }
}

/* torch, per step:  s = sign(g*prev);  step = clamp(step * (s > 0 ? eta_plus : s < 0 ? eta_minus
 *   : 1), min, max);  if s < 0: g = 0;  w -= sign(g)*step;  prev = g.
 * g*prev is a float product (it can underflow to 0: "no sign information", as in torch). */
static int rprop_step(const bp_step_args *a)
{
    const double *hp = a->hp;
    if (hp[STEP_SIZE_MIN] > hp[STEP_SIZE_MAX]) {
        if (a->err && a->err_size)
            snprintf(a->err, a->err_size,
                     "rprop: step_size_min must not exceed step_size_max (got %g > %g)",
                     hp[STEP_SIZE_MIN], hp[STEP_SIZE_MAX]);
        return -1;
    }
    const float eminus = (float)hp[ETA_MINUS], eplus = (float)hp[ETA_PLUS];
    const float lo = (float)hp[STEP_SIZE_MIN], hi = (float)hp[STEP_SIZE_MAX];
    const size_t n = a->n;
    const size_t s = a->state_stride ? a->state_stride : n;
    float *w = a->w, *prev = a->state, *step = a->state + s;
    for (size_t i = 0; i < n; i++) {
        float g = a->g[i];
        float p = g * prev[i];
        float f = p > 0.0f ? eplus : p < 0.0f ? eminus : 1.0f;
        float st = step[i] * f;
        st = st < lo ? lo : st > hi ? hi : st;
        step[i] = st;
        if (p < 0.0f)
            g = 0.0f;
        float sg = g > 0.0f ? 1.0f : g < 0.0f ? -1.0f : 0.0f; /* torch.sign(NaN) is 0 */
        w[i] = fmaf(-sg, st, w[i]);
        prev[i] = g;
    }
    return 0;
}

static const bp_optimizer rprop_optimizer = {
    .size = sizeof(bp_optimizer),
    .n_hparams = sizeof rprop_hparams / sizeof rprop_hparams[0],
    .hparams = rprop_hparams,
    .n_state = 2,
    .flags = BP_OPT_ELEMENTWISE | BP_OPT_FULL_BATCH,
    .init_state = rprop_init,
    .step = rprop_step,
    .bundled = BP_BUNDLED_KEY,
};

static const bp_plugin rprop_plugin = {
    .abi = BP_PLUGIN_ABI,
    .size = sizeof(bp_plugin),
    .kind = BP_OPTIMIZER,
    .name = "rprop",
    .summary = "Rprop as torch.optim.Rprop (Riedmiller & Braun 1993; no weight backtracking, "
               "lr = initial step size); full-batch",
    .u.optimizer = &rprop_optimizer,
};

BP_PLUGIN_EXPORT const bp_plugin *bp_plugin_entry(void)
{
    return &rprop_plugin;
}
