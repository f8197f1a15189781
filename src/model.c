#include "autoconf.h"
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

bp_model *bp_model_new(const int *sizes, size_t n_sizes, bp_err *e)
{
    if (n_sizes < 2) {
        bp_err_set(e, BP_ECONFIG, "a model needs at least an input and an output layer");
        return NULL;
    }
    bp_model *m = bp_xcalloc(1, sizeof *m, e);
    if (!m)
        return NULL;
    m->n_layers = n_sizes - 1;
    m->sizes = bp_xcalloc(n_sizes, sizeof *m->sizes, e);
    m->w_off = bp_xcalloc(m->n_layers, sizeof *m->w_off, e);
    m->b_off = bp_xcalloc(m->n_layers, sizeof *m->b_off, e);
    m->act = bp_xcalloc(m->n_layers, sizeof *m->act, e);
    if (!m->sizes || !m->w_off || !m->b_off || !m->act)
        goto fail;
    size_t off = 0;
    for (size_t i = 0; i < n_sizes; i++) {
        if (sizes[i] < 1) {
            bp_err_set(e, BP_ECONFIG, "layer %zu has size %d; sizes must be >= 1", i, sizes[i]);
            goto fail;
        }
        m->sizes[i] = sizes[i];
    }
    for (size_t l = 0; l < m->n_layers; l++) {
        m->w_off[l] = off;
        off += (size_t)sizes[l + 1] * (size_t)sizes[l];
        m->b_off[l] = off;
        off += (size_t)sizes[l + 1];
    }
    m->n_params = off;
    size_t bytes = (off * sizeof(float) + 63) / 64 * 64;
    m->params = aligned_alloc(64, bytes);
    if (!m->params) {
        bp_err_set(e, BP_ENOMEM, "out of memory for %zu parameters", off);
        goto fail;
    }
    memset(m->params, 0, bytes);
    return m;
fail:
    bp_model_free(m);
    return NULL;
}

void bp_model_free(bp_model *m)
{
    if (!m)
        return;
    free(m->sizes);
    free(m->w_off);
    free(m->b_off);
    free(m->act);
    free(m->params);
    free(m->mean);
    free(m->std);
    bp_registry_free(m->reg);
    free(m);
}

int bp_model_max_width(const bp_model *m)
{
    int w = 0;
    for (size_t i = 0; i <= m->n_layers; i++)
        if (m->sizes[i] > w)
            w = m->sizes[i];
    return w;
}

void bp_model_init(bp_model *m, bp_init_scheme scheme, double range, double gain, uint64_t seed,
                   uint64_t trial)
{
    bp_rng r = bp_rng_stream(seed, trial, BP_RNG_INIT, 0);
    for (size_t l = 0; l < m->n_layers; l++) {
        size_t fan_in = (size_t)m->sizes[l], fan_out = (size_t)m->sizes[l + 1];
        float *w = bp_model_w(m, l), *b = bp_model_b(m, l);
        size_t nw = fan_in * fan_out;
        double a = 0.0, sd = 0.0;
        int normal = 0;
        switch (scheme) {
        case BP_INIT_UNIFORM: a = range; break;
        case BP_INIT_XAVIER_UNIFORM: a = gain * sqrt(6.0 / (double)(fan_in + fan_out)); break;
        case BP_INIT_XAVIER_NORMAL: sd = gain * sqrt(2.0 / (double)(fan_in + fan_out)); normal = 1; break;
        case BP_INIT_HE_UNIFORM: a = gain * sqrt(6.0 / (double)fan_in); break;
        case BP_INIT_HE_NORMAL: sd = gain * sqrt(2.0 / (double)fan_in); normal = 1; break;
        default: a = 0.0; break;
        }
        for (size_t i = 0; i < nw; i++)
            w[i] = normal ? (float)(sd * bp_rng_normal(&r))
                          : (float)(a * (2.0 * bp_rng_uniform(&r) - 1.0));
        for (size_t j = 0; j < fan_out; j++)
            b[j] = scheme == BP_INIT_UNIFORM ? (float)(range * (2.0 * bp_rng_uniform(&r) - 1.0)) : 0.0f;
    }
}

double bp_model_norm2(const bp_model *m)
{
    double s = 0.0;
    for (size_t i = 0; i < m->n_params; i++)
        s += (double)m->params[i] * m->params[i];
    return s;
}
