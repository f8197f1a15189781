/* cmd_predict.c - bprun predict RUN|TRIAL DATA [-o OUT.h5|OUT.csv] (cmd_predict.h) */
#include "autoconf.h"
#include "cmd_predict.h"

#include <errno.h>
#include <hdf5.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backprop.h"
#include "cli.h"
#include "data.h"
#include "modelapi.h"
#include "report.h"

const char bp_usage_predict[] =
    "usage: bprun predict RUN|TRIAL_FILE DATA [-o OUT.h5|OUT.csv] [--force] [--threads N]\n"
    "                     [--plugin-path DIR]...\n"
    "\n"
    "The outputs of a trained net and its predicted class for every row of DATA\n"
    "(docs/PREDICT.md). The net is a trial file (runs/x/trials/0003.h5), RUN#ID (trial ID of\n"
    "a run folder) or a run folder: its best trial, the first of `bprun report RUN`'s ranking\n"
    "(completed trials by final validation loss, or training loss without validation data).\n"
    "DATA is a dataset reference as in a config (file.h5#/group with X and y or Y, or\n"
    "builtin:NAME) or a CSV file (.csv or .csv.gz): the model's input width in columns, or\n"
    "one more (a last column of labels, ignored). The standardization the net was trained\n"
    "with is applied to DATA first, as bprun eval does; the outputs are the same bits.\n"
    "\n"
    "Output: CSV with a header (output_0 .. output_K-1, class; %.9g, which reads back as\n"
    "the same float32) on standard output, or with -o: OUT.csv, or OUT.h5 holding the\n"
    "datasets outputs (N x K float32) and class (N int32), and the attributes model and data.\n"
    "The class is the largest output's index (the first of equal ones), or for one output 1\n"
    "when it is >= 0.5, as bprun counts accuracy.\n"
    "\n"
    "  -o, --output FILE      write to FILE (.h5 or .csv) instead of standard output\n"
    "  -f, --force            replace an existing FILE\n"
    "  -t, --threads N        threads for the kernels (the outputs do not depend on it)\n"
    "  -P, --plugin-path DIR  search DIR for activation plugins first (repeatable)\n"
    "  -h, --help             show this help\n";

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

static int is_csv(const char *path)
{
    return !strchr(path, '#') && (ends_with(path, ".csv") || ends_with(path, ".csv.gz"));
}

/* A CSV of features, optionally with a last column of labels (bp_import_csv's default); a
 * file of n_in columns is all features (read as n_in - 1 features and one numeric target
 * column, then put back together). */
static bp_dataset *load_csv(const char *path, size_t n_in, bp_err *e)
{
    bp_dataset *d = bp_import_csv(path, NULL, e);
    if (d && d->d == n_in)
        return d;
    bp_csv_opts o = { .header = -1, .label_column = -2, .labels_text = 0, .target_columns = 1 };
    bp_err e2;
    bp_err_clear(&e2);
    bp_dataset *t = bp_import_csv(path, &o, &e2), *f = NULL;
    if (t && t->d + 1 == n_in && (f = bp_data_new(path, t->n, n_in, BP_TARGET_LABELS, 1, e))) {
        for (size_t i = 0; i < t->n; i++) {
            memcpy(f->X + i * n_in, t->X + i * t->d, t->d * sizeof *f->X);
            f->X[i * n_in + t->d] = t->Y[i];
        }
        bp_data_free(d);
        d = f;
    }
    bp_data_free(t);
    return d;   /* NULL with the labelled reading's error, or a width the caller refuses */
}

static int write_csv(FILE *f, const float *out, const int32_t *cls, size_t n, size_t k)
{
    for (size_t j = 0; j < k; j++)
        fprintf(f, "output_%zu,", j);
    fputs("class\n", f);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < k; j++)
            fprintf(f, "%.9g,", (double)out[i * k + j]);
        fprintf(f, "%d\n", cls[i]);
    }
    return ferror(f) ? -1 : 0;
}

static int str_attr(hid_t loc, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    H5Tset_size(t, strlen(value) + 1);
    hid_t a = H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 || H5Awrite(a, t, value) < 0 ? -1 : 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return rc;
}

static int write_array(hid_t f, const char *name, hid_t ftype, hid_t mtype, const void *v,
                       int rank, const hsize_t *dims)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = sp < 0 ? -1 : H5Dcreate2(f, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = d < 0 || H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0 ? -1 : 0;
    if (d >= 0)
        H5Dclose(d);
    if (sp >= 0)
        H5Sclose(sp);
    return rc;
}

/* OUT.h5 through OUT.h5.part and a rename, so a failed write leaves no half file */
static int write_h5(const char *path, const char *model, const char *data, const float *out,
                    const int32_t *cls, size_t n, size_t k, bp_err *e)
{
    char part[4096];
    if ((size_t)snprintf(part, sizeof part, "%s.part", path) >= sizeof part)
        return bp_err_set(e, BP_EUSAGE, "%s: path too long", path);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(part, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0)
        return bp_err_set(e, BP_EIO, "%s: cannot create", part);
    hsize_t dims[2] = { n, k };
    int rc = write_array(f, "outputs", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, out, 2, dims) ||
             write_array(f, "class", H5T_STD_I32LE, H5T_NATIVE_INT32, cls, 1, dims) ||
             str_attr(f, "model", model) || str_attr(f, "data", data);
    if (H5Fclose(f) < 0)
        rc = -1;
    if (rc) {
        remove(part);
        return bp_err_set(e, BP_EIO, "%s: cannot write", part);
    }
    if (rename(part, path)) {
        int err = errno;
        remove(part);
        return bp_err_set(e, BP_EIO, "%s: cannot rename to %s: %s", part, path, strerror(err));
    }
    return 0;
}

static int write_file(const char *path, int force, const char *model, const char *data,
                      const float *out, const int32_t *cls, size_t n, size_t k, bp_err *e)
{
    struct stat st;
    if (!force && lstat(path, &st) == 0)
        return bp_err_set(e, BP_EEXIST, "%s: exists (use --force to replace it)", path);
    if (ends_with(path, ".h5"))
        return write_h5(path, model, data, out, cls, n, k, e);
    FILE *f = fopen(path, "w");
    if (!f)
        return bp_err_set(e, BP_EIO, "%s: cannot create: %s", path, strerror(errno));
    int rc = write_csv(f, out, cls, n, k);
    if (fclose(f) || rc)
        return bp_err_set(e, BP_EIO, "%s: cannot write", path);
    return 0;
}

/* RUN (a folder without #ID) becomes RUN#BEST; anything else is kept. malloc'd. */
static char *model_ref(const char *arg, bp_err *e)
{
    struct stat st;
    uint32_t best;
    char *s;
    if (strchr(arg, '#') || stat(arg, &st) || !S_ISDIR(st.st_mode)) {
        if (!(s = strdup(arg)))
            bp_err_set(e, BP_ENOMEM, "out of memory");
        return s;
    }
    if (bp_report_best_trial(arg, &best, e))
        return NULL;
    size_t n = strlen(arg) + 16;
    if (!(s = malloc(n))) {
        bp_err_set(e, BP_ENOMEM, "out of memory");
        return NULL;
    }
    snprintf(s, n, "%s#%u", arg, (unsigned)best);
    return s;
}

static int predict(const char *model_arg, const char *data_ref, const char *output, int force,
                   int threads, char **dirs, size_t n_dirs, FILE *stdout_f, bp_err *e)
{
    char *ref = model_ref(model_arg, e);
    if (!ref)
        return e->code;
    bp_model *m = bp_model_open(ref, dirs, n_dirs, e);
    bp_dataset *d = NULL;
    bp_work *w = NULL;
    float *out = NULL;
    int32_t *cls = NULL;
    int rc = 0;
    if (!m) {
        rc = e->code;
        goto out;
    }
    size_t n_in = (size_t)m->sizes[0], k = (size_t)m->sizes[m->n_layers];
    if (!(d = is_csv(data_ref) ? load_csv(data_ref, n_in, e) : bp_data_load(data_ref, e))) {
        rc = e->code;
        goto out;
    }
    if (d->d != n_in && is_csv(data_ref)) {
        rc = bp_err_set(e, BP_EDATA, "%s: %zu columns but the model %s takes %zu features (and "
                        "optionally a last column of labels)", d->name, d->d + 1, ref, n_in);
        goto out;
    }
    if (d->d != n_in) {
        rc = bp_err_set(e, BP_EDATA, "%s: X has %zu feature%s but the model %s takes %zu", d->name,
                        d->d, bp_s(d->d), ref, n_in);
        goto out;
    }
    if (!(w = bp_work_new(m, 256, e))) {
        rc = e->code;
        goto out;
    }
    out = malloc(d->n * k * sizeof *out);
    cls = malloc(d->n * sizeof *cls);
    if (!out || !cls) {
        rc = bp_err_set(e, BP_ENOMEM, "out of memory");
        goto out;
    }
    bp_model_rows(m, w, d->n, d->X, out, bp_cli_default_threads(threads));
    for (size_t i = 0; i < d->n; i++)
        cls[i] = (int32_t)bp_model_row_class(m, out + i * k);
    if (output)
        rc = write_file(output, force, ref, data_ref, out, cls, d->n, k, e);
    else if (write_csv(stdout_f, out, cls, d->n, k))
        rc = bp_err_set(e, BP_EIO, "standard output: cannot write");
out:
    free(cls);
    free(out);
    bp_work_free(w);
    bp_data_free(d);
    bp_model_free(m);
    free(ref);
    return rc;
}

int bp_cmd_predict(int argc, char **argv, FILE *out, bp_err *e)
{
    bp_cli c = { 0 };
    bp_cli_spec spec = { .cmd = "predict", .usage = bp_usage_predict, .shared = "oftP",
                         .shorts = ":o:ft:P:h" };
    int i = bp_cli_parse(argc, argv, &spec, &c, out, e), rc = i < 0 ? i : 0;
    if (i > 0 && argc - i != 2)
        rc = bp_err_set(e, BP_EUSAGE, "expected RUN or TRIAL_FILE, and DATA");
    if (i > 0 && !rc && c.output && !ends_with(c.output, ".h5") && !ends_with(c.output, ".csv"))
        rc = bp_err_set(e, BP_EUSAGE, "--output: expected a file ending in .h5 or .csv (got '%s')",
                        c.output);
    if (i > 0 && !rc)
        rc = predict(argv[i], argv[i + 1], c.output, c.force, c.threads, c.plugin_dirs,
                     c.n_plugin_dirs, out, e);
    bp_cli_free(&c);
    return rc == BP_EUSAGE ? BP_CLI_USAGE : rc;   /* every usage error with the --help hint */
}
