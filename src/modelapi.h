/* modelapi.h - trained nets loaded for prediction: the code behind bprun/model.h (the installed
 * API of libbprun-model) that `bprun predict` shares, so both give the same bits.
 *
 * A loaded model is a bp_model (model.h) that also owns the feature standardization it was
 * trained with and the registry its activation plugins were loaded from (bp_model_free frees
 * them).
 */
#ifndef BP_MODELAPI_H
#define BP_MODELAPI_H

#include <stddef.h>

#include "backprop.h"
#include "err.h"
#include "model.h"

/* Load the model of a trial (path as for bp_saved_model_read: a trial file, RUN or RUN#ID).
 * dirs: plugin folders searched first (--plugin-path), may be NULL; then the registry's usual
 * search path; a name found in no folder is taken from bprun's own activations compiled in
 * (builtin.h). NULL on error with e naming the file (BP_EIO: no file, no saved model;
 * BP_EPLUGIN: an activation not found or broken; BP_EDATA: an inconsistent model). */
bp_model *bp_model_open(const char *path, char *const *dirs, size_t n_dirs, bp_err *e);

/* Outputs of n rows of raw features in (row stride sizes[0]) into out (row stride
 * sizes[n_layers]): in batches of w->cap rows, each copied into w->Xb, standardized with the
 * model's mean and std (bp_data_standardize) when it has them, and run through bp_forward.
 * w MUST come from bp_work_new for m. The bits of a row do not depend on n, w->cap or
 * nthreads. */
void bp_model_rows(const bp_model *m, bp_work *w, size_t n, const float *in, float *out,
                   int nthreads);

/* The predicted class of one output row, by the rule of bprun's accuracy (backprop.c): argmax
 * (first of equal values) of several outputs; one output: 1 when >= 0.5. */
size_t bp_model_row_class(const bp_model *m, const float *out_row);

#endif
