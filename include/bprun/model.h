/* bprun/model.h - run a net bprun trained, from a C program (library libbprun-model).
 *
 * A trial file (RUN/trials/NNNN.h5) holds the trained weights, the layer sizes, the activation
 * of every layer with its hyperparameters and the feature standardization the net was trained
 * with. This API loads it and computes the net's outputs for rows of raw features:
 *
 *     #include <bprun/model.h>
 *     char *err = NULL;
 *     bp_model *m = bp_model_load("runs/iris/trials/0000.h5", &err);
 *     if (!m) { fprintf(stderr, "%s\n", err); free(err); return 1; }
 *     float in[4] = { 5.1f, 3.5f, 1.4f, 0.2f }, out[3];
 *     bp_model_run(m, 1, 4, in, out);
 *     bp_model_free(m);
 *
 * Build with: cc prog.c $(pkg-config --cflags --libs bprun-model)
 *
 * Same bits as bprun. bp_model_run computes exactly what `bprun eval` and `bprun predict`
 * compute for the same rows (the same code: standardization, the layers' products in the same
 * order, the same activation code), so its outputs equal theirs bit for bit, whatever the
 * number of rows per call. (In a build with OpenBLAS, large layers take cblas_sgemm unless
 * the environment has BPRUN_KERNELS=builtin, in the library as in bprun: the same setting
 * gives the same bits; docs/PERFORMANCE.md.)
 *
 * Activations. softmax outputs are computed by the library. Every other activation is the
 * plugin the trial names, found as bprun finds it (docs/PLUGINS.md): in the folders of
 * BPRUN_PLUGIN_PATH (colon-separated), then in the plugin folder of the bprun this library was
 * installed with, and loaded through the plugin ABI (bprun/plugin.h) with all of its checks.
 * A name found in no folder is taken from bprun's own activations (sigmoid, tanh, relu,
 * identity, leaky_relu, elu, softplus, softsign, gelu), which the library holds compiled from
 * the same sources as the plugin files; so a trained net of bprun's own activations runs
 * without any plugin installed, and a user's plugin of the same name, where the search path
 * has one, is still the one bprun trained with.
 *
 * Ownership. bp_model_load returns a model the caller owns and MUST release with
 * bp_model_free (which accepts NULL). Error messages are malloc'd strings the caller MUST
 * free(). Arrays passed to bp_model_run stay the caller's; the library keeps no pointer to
 * them.
 *
 * Thread-safety. A loaded model is never modified: bp_model_run, bp_model_n_inputs,
 * bp_model_n_outputs and bp_model_class MAY be called concurrently from several threads on
 * one model. bp_model_load reads HDF5, which is not thread-safe: it MUST NOT run concurrently
 * with another bp_model_load or other HDF5 calls of the process. bp_model_free MUST NOT run
 * concurrently with any other call on the same model.
 * The library MUST NOT be unloaded (dlclose) while a model is alive.
 *
 * Errors. Functions returning int give 0 on success or a negative BP_MODEL_E* code; they do
 * not print and never exit. bp_model_load leaves the program's HDF5 error printing
 * (H5Eset_auto2) as it found it.
 */
#ifndef BPRUN_MODEL_H
#define BPRUN_MODEL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes of bp_model_run. */
#define BP_MODEL_EINVAL (-1)   /* NULL model or array, or n_in is not the model's input width */
#define BP_MODEL_ENOMEM (-2)   /* out of memory */

typedef struct bp_model bp_model;

/* Load the trained net of a trial file. path is a trial file (RUN/trials/0003.h5), a run
 * folder (its trial 0000) or RUN#ID (trial ID of a run folder), as for `bprun eval`.
 * Returns the model, or NULL with *err (when err is not NULL) set to a malloc'd one-line
 * message naming the file or object: no such file, not a bprun trial file, a trial without a
 * saved model (not finished), an activation plugin not found or broken. */
bp_model *bp_model_load(const char *path, char **err);

/* The net's outputs for n_rows rows of raw features. in holds n_rows x n_in floats,
 * row-major; n_in MUST be the model's input width (bp_model_n_inputs; else BP_MODEL_EINVAL,
 * nothing written). out receives n_rows x bp_model_n_outputs(m) floats, row-major: the output
 * layer's activations (probabilities for a softmax output). The standardization the net was
 * trained with is applied to the rows first (in is not modified). Runs on the calling
 * thread. Returns 0, BP_MODEL_EINVAL or BP_MODEL_ENOMEM. n_rows 0 is a no-op. */
int bp_model_run(const bp_model *m, size_t n_rows, size_t n_in, const float *in, float *out);

/* The input width (features per row) and output width of the net. */
size_t bp_model_n_inputs(const bp_model *m);
size_t bp_model_n_outputs(const bp_model *m);

/* The predicted class of one row of outputs (bp_model_n_outputs(m) floats), as bprun counts
 * accuracy: the index of the largest output (the first of equal ones) for several outputs;
 * for one output, 1 when it is >= 0.5, else 0. */
size_t bp_model_class(const bp_model *m, const float *out_row);

/* Free the model and everything it loaded. Accepts NULL. */
void bp_model_free(bp_model *m);

#ifdef __cplusplus
}
#endif

#endif
