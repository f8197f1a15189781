/* model.h - a multilayer perceptron over one flat parameter buffer.
 *
 * Layer l (0-based, l < n_layers) maps sizes[l] inputs to sizes[l+1] outputs. Its weight
 * matrix W_l (sizes[l+1] x sizes[l], row-major: W_l[j][i] connects input i to unit j) starts at
 * params + w_off[l], its bias b_l (sizes[l+1]) at params + b_off[l]. Layers are stored in
 * order, each as W then b, so the buffer is one array optimizers, checkpoints and Hessian
 * vectors share.
 */
#ifndef BP_MODEL_H
#define BP_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "bprun/plugin.h"
#include "config.h"
#include "err.h"
#include "plugin.h"

typedef struct bp_act {
    const char *name;              /* plugin name, or "softmax" (borrowed) */
    const bp_activation *fn;       /* NULL for the softmax output */
    double hp[BP_MAX_HPARAMS];
    size_t n_hp;
} bp_act;

typedef struct bp_model {
    size_t n_layers;        /* weight layers (number of sizes - 1) */
    int *sizes;             /* n_layers + 1 */
    size_t n_params;
    float *params;          /* n_params, 64-byte aligned */
    size_t *w_off, *b_off;  /* n_layers each */
    bp_act *act;            /* n_layers: hidden layers' and (last) the output layer's */
    int softmax;            /* output layer is softmax (act[n_layers-1].fn == NULL) */
    bp_loss loss;
    /* Only in a model loaded for prediction (modelapi.c, bprun/model.h): the feature
     * standardization it was trained with (sizes[0] values each, or NULL) and the registry its
     * activations live in. bp_model_free frees them with the model. */
    double *mean, *std;
    bp_registry *reg;
} bp_model;

/* A model with the given layer sizes; parameters zeroed; activations unset. */
bp_model *bp_model_new(const int *sizes, size_t n_sizes, bp_err *e);
/* Frees the model and what it owns (mean, std, reg); accepts NULL. */
void bp_model_free(bp_model *m);

static inline float *bp_model_w(const bp_model *m, size_t l) { return m->params + m->w_off[l]; }
static inline float *bp_model_b(const bp_model *m, size_t l) { return m->params + m->b_off[l]; }
/* The widest layer (for work buffers). */
int bp_model_max_width(const bp_model *m);

/* Initialize the parameters with a scheme (not BP_INIT_FROM), drawing from the stream
 * (seed, trial, BP_RNG_INIT). uniform: weights and biases U(-range, range). xavier_uniform:
 * U(-a, a), a = gain*sqrt(6/(fan_in+fan_out)); xavier_normal: N(0, gain^2*2/(fan_in+fan_out));
 * he_uniform: a = gain*sqrt(6/fan_in); he_normal: N(0, gain^2*2/fan_in); biases 0 for these. */
void bp_model_init(bp_model *m, bp_init_scheme scheme, double range, double gain, uint64_t seed,
                   uint64_t trial);

/* Build the model a config describes, with activations bound from the registry (hyperparameters
 * checked and filled into cfg) and parameters initialized (from the config's scheme, or loaded
 * from init.from through trialread.h). */
bp_model *bp_model_from_config(bp_config *cfg, bp_registry *reg, uint64_t trial, bp_err *e);

/* Squared Euclidean norm of the parameters (double accumulation, fixed order). */
double bp_model_norm2(const bp_model *m);

#endif
