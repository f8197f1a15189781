/* quickprop - Quickprop (Fahlman, 1988) exactly as FANN's fann_update_weights_quickprop
 * (libfann 2.2, src/fann_train.c), in float with FANN's operation order. A full-batch method.
 *
 * FANN works with "slopes", the NEGATIVE gradient summed over the training set, plus
 * quickprop_decay*w, and moves w += step with epsilon = learning_rate/num_data. Here the host
 * passes the gradient g over `rows` rows (the mean, or the sum with train.reduction sum), so
 * the slope is -(rows*g) + decay*w (-g + decay*w when g is the sum) and epsilon = lr/rows:
 * lr is FANN's learning_rate and decay FANN's quickprop_decay, defaults included. With rows
 * 0 or 1 (one row, or a host that does not say) this is -g + decay*w and lr. Two details kept from FANN: weights are clamped to
 * [-1500, 1500], and a quadratic estimate whose denominator is 0 gives an infinite step (then
 * clamped). One deliberate difference: when the slope is 0 the quadratic term is 0 (FANN
 * computes 0/0 = NaN when the previous slope was 0 as well). */
#include <bprun/plugin.h>

#include "bundled.h"

#include <math.h>

enum { LR, MU, DECAY };

static const bp_hparam quickprop_hparams[] = {
    [LR] = { "lr", 0.7, 0.0, HUGE_VAL, BP_HP_MIN_OPEN,
             "epsilon: factor of the gradient-descent term (FANN's learning_rate)" },
    [MU] = { "mu", 1.75, 0.0, HUGE_VAL, BP_HP_MIN_OPEN,
             "maximum growth factor: no step exceeds mu times the previous one" },
    [DECAY] = { "decay", -0.0001, -HUGE_VAL, 0.0, BP_HP_REAL,
                "decay*w is added to the slope (the negative gradient summed over the batch): "
                "weight decay when < 0 (FANN's quickprop_decay)" },
};

/* State slots: 0 = previous step, 1 = previous slope; both 0 before step 1 (as FANN). FANN's
 * rule, with slope = -G + decay*w (G the gradient summed over the rows), epsilon = lr/rows and
 * shrink = mu/(1+mu):
 *   previous step > 0.001:  step = (slope > 0 ? lr*slope : 0)
 *                                + (slope > shrink*prev_slope ? mu*prev_step
 *                                   : prev_step*slope/(prev_slope - slope));
 *   previous step < -0.001: the same with the comparisons reversed;
 *   otherwise:              step = lr*slope.
 *   w = clamp(w + step, -1500, 1500). */
static int quickprop_step(const bp_step_args *a)
{
    const double *hp = a->hp;
    const size_t rows = a->rows > 1 ? a->rows : 1;
    const float epsilon = (float)hp[LR] / (float)rows; /* FANN: learning_rate / num_data */
    const float gscale = a->summed ? 1.0f : (float)rows;
    const float mu = (float)hp[MU];
    const float decay = (float)hp[DECAY];
    const float shrink = (float)(mu / (1.0 + mu));
    const size_t n = a->n;
    const size_t s = a->state_stride ? a->state_stride : n;
    float *weights = a->w, *prev_steps = a->state, *prev_slopes = a->state + s;
    for (size_t i = 0; i < n; i++) {
        float w = weights[i];
        float prev_step = prev_steps[i];
        float slope = (rows > 1 ? -(gscale * a->g[i]) : -a->g[i]) + decay * w;
        float prev_slope = prev_slopes[i];
        float next_step = 0.0f;
        if (prev_step > 0.001) {
            if (slope > 0.0)
                next_step += epsilon * slope;
            if (slope > shrink * prev_slope)
                next_step += mu * prev_step;
            else if (slope != 0.0f)
                next_step += prev_step * slope / (prev_slope - slope);
        } else if (prev_step < -0.001) {
            if (slope < 0.0)
                next_step += epsilon * slope;
            if (slope < shrink * prev_slope)
                next_step += mu * prev_step;
            else if (slope != 0.0f)
                next_step += prev_step * slope / (prev_slope - slope);
        } else {
            next_step += epsilon * slope;
        }
        prev_steps[i] = next_step;
        w += next_step;
        weights[i] = w > 1500 ? 1500.0f : w < -1500 ? -1500.0f : w;
        prev_slopes[i] = slope;
    }
    return 0;
}

static const bp_optimizer quickprop_optimizer = {
    .size = sizeof(bp_optimizer),
    .n_hparams = sizeof quickprop_hparams / sizeof quickprop_hparams[0],
    .hparams = quickprop_hparams,
    .n_state = 2,
    .flags = BP_OPT_ELEMENTWISE | BP_OPT_FULL_BATCH,
    .init_state = NULL,
    .step = quickprop_step,
    .bundled = BP_BUNDLED_KEY,
};

static const bp_plugin quickprop_plugin = {
    .abi = BP_PLUGIN_ABI,
    .size = sizeof(bp_plugin),
    .kind = BP_OPTIMIZER,
    .name = "quickprop",
    .summary = "Quickprop (Fahlman 1988) as FANN's fann_update_weights_quickprop, on the "
               "summed gradient (no torch equivalent); full-batch",
    .u.optimizer = &quickprop_optimizer,
};

BP_PLUGIN_EXPORT const bp_plugin *bp_plugin_entry(void)
{
    return &quickprop_plugin;
}
