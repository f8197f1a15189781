/* modelapi.c - trained nets loaded for prediction (modelapi.h), and the installed API
 * bprun/model.h over them. */
#include "autoconf.h"
#include "modelapi.h"

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

#include "bprun/model.h"
#include "builtin.h"
#include "data.h"
#include "plugin.h"
#include "trialread.h"
#include "trial.h"

bp_model *bp_model_open(const char *path, char *const *dirs, size_t n_dirs, bp_err *e)
{
    const bp_plugin *builtin[32];
    size_t nb = bp_builtin_activations(builtin, 32);
    bp_registry *reg = bp_registry_new(dirs, n_dirs, e);
    if (!reg)
        return NULL;
    if (bp_registry_add_builtins(reg, builtin, nb < 32 ? nb : 32, "bprun", e)) {
        bp_registry_free(reg);
        return NULL;
    }
    bp_saved_model *s = bp_saved_model_read(path, e);
    if (!s) {
        bp_registry_free(reg);
        return NULL;
    }
    bp_model *m = bp_saved_model_build(s, reg, e);
    if (!m) {
        bp_err_prefix(e, "%s", path);
        bp_registry_free(reg);
    } else {
        m->reg = reg;
        m->mean = s->mean;
        m->std = s->std;
        s->mean = s->std = NULL;
    }
    bp_saved_model_free(s);
    return m;
}

void bp_model_rows(const bp_model *m, bp_work *w, size_t n, const float *in, float *out,
                   int nthreads)
{
    size_t d = (size_t)m->sizes[0], k = (size_t)m->sizes[m->n_layers];
    for (size_t first = 0; first < n; first += w->cap) {
        size_t nb = n - first < w->cap ? n - first : w->cap;
        memcpy(w->Xb, in + first * d, nb * d * sizeof *in);
        if (m->mean) {
            bp_dataset batch = { .n = nb, .d = d, .X = w->Xb };
            bp_data_standardize(&batch, m->mean, m->std);
        }
        bp_forward(m, w, w->Xb, nb, nthreads);
        memcpy(out + first * k, w->A[m->n_layers - 1], nb * k * sizeof *out);
    }
}

size_t bp_model_row_class(const bp_model *m, const float *o)
{
    size_t k = (size_t)m->sizes[m->n_layers], b = 0;
    if (k == 1)
        return o[0] >= 0.5f;
    for (size_t j = 1; j < k; j++)
        if (o[j] > o[b])
            b = j;
    return b;
}

/* bprun/model.h */

bp_model *bp_model_load(const char *path, char **err)
{
    bp_err e;
    bp_err_clear(&e);
    H5E_auto2_t func = NULL;    /* the program's HDF5 error printing, restored after the read */
    void *data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    bp_model *m = path ? bp_model_open(path, NULL, 0, &e) : NULL;
    H5Eset_auto2(H5E_DEFAULT, func, data);
    if (!path)
        bp_err_set(&e, BP_EUSAGE, "bp_model_load: path is NULL");
    if (!m && err)
        *err = strdup(e.msg);   /* NULL when out of memory: the caller's free(NULL) is fine */
    return m;
}

int bp_model_run(const bp_model *m, size_t n_rows, size_t n_in, const float *in, float *out)
{
    if (!m || (n_rows && (!in || !out)) || n_in != (size_t)m->sizes[0])
        return BP_MODEL_EINVAL;
    if (n_rows == 0)
        return 0;
    bp_err e;
    bp_work *w = bp_work_new(m, n_rows < 256 ? n_rows : 256, &e);
    if (!w)
        return BP_MODEL_ENOMEM;
    bp_model_rows(m, w, n_rows, in, out, 1);
    bp_work_free(w);
    return 0;
}

size_t bp_model_n_inputs(const bp_model *m)
{
    return m ? (size_t)m->sizes[0] : 0;
}

size_t bp_model_n_outputs(const bp_model *m)
{
    return m ? (size_t)m->sizes[m->n_layers] : 0;
}

size_t bp_model_class(const bp_model *m, const float *out_row)
{
    return m && out_row ? bp_model_row_class(m, out_row) : 0;
}
