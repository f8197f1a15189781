#include "autoconf.h"
#include "report.h"

#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "input.h"
#include "minima.h"

const char *const bp_report_format_names[BP_REPORT_FORMAT_COUNT] = { "text", "csv", "markdown",
                                                                     "json" };

typedef struct row {
    uint32_t trial;
    uint64_t seed;
    char status[17];
    int32_t epochs;
    double loss, val_loss, acc, val_acc, best_val, secs, test_loss, test_acc;
    int32_t to_target;  /* epochs_to_target: > 0 reached, -1 not reached, 0 no target */
    double sps, rss, work; /* samples/s, peak RSS and working memory in bytes; 0: unknown */
    char **params;    /* n_axes values */
    /* diagnostics, from the trial file (not the index table) */
    char verdict[24]; /* "" when none */
    int minimum;      /* the distinct minimum of its point (0 = lowest loss), -1 when none */
    double dloss;     /* /diagnostics loss attribute (full-batch loss at the final weights) */
} row;

typedef struct run {
    size_t n, n_axes;
    row *rows;
    char **axes;
    char *best_config;
} run;

static void run_free(run *r)
{
    for (size_t i = 0; i < r->n && r->rows; i++) {
        for (size_t a = 0; a < r->n_axes && r->rows[i].params; a++)
            free(r->rows[i].params[a]);
        free(r->rows[i].params);
    }
    free(r->rows);
    for (size_t a = 0; a < r->n_axes && r->axes; a++)
        free(r->axes[a]);
    free(r->axes);
    free(r->best_config);
}

static char *read_str_attr(hid_t loc, const char *name)
{
    if (H5Aexists(loc, name) <= 0)
        return NULL;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT), t = H5Tcopy(H5T_C_S1);
    char *v = NULL, *out = NULL;
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    if (a >= 0 && H5Aread(a, t, &v) >= 0 && v) {
        out = strdup(v);
        hid_t sp = H5Aget_space(a);
        H5Dvlen_reclaim(t, sp, H5P_DEFAULT, &v);
        H5Sclose(sp);
    }
    H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    return out;
}

static int read_strings(hid_t loc, const char *name, int attr, size_t want, char ***out)
{
    hid_t o = attr ? H5Aopen(loc, name, H5P_DEFAULT) : H5Dopen2(loc, name, H5P_DEFAULT);
    if (o < 0)
        return -1;
    hid_t sp = attr ? H5Aget_space(o) : H5Dget_space(o);
    hssize_t np = H5Sget_simple_extent_npoints(sp);
    int rc = -1;
    if (np >= 0 && (size_t)np == want) {
        char **v = calloc(want ? want : 1, sizeof *v);
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        H5Tset_cset(t, H5T_CSET_UTF8);
        if (v && (attr ? H5Aread(o, t, v) : H5Dread(o, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v)) >= 0) {
            *out = calloc(want ? want : 1, sizeof **out);
            for (size_t i = 0; *out && i < want; i++)
                (*out)[i] = strdup(v[i] ? v[i] : "");
            H5Dvlen_reclaim(t, sp, H5P_DEFAULT, v);
            rc = *out ? 0 : -1;
        }
        H5Tclose(t);
        free(v);
    }
    H5Sclose(sp);
    if (attr)
        H5Aclose(o);
    else
        H5Dclose(o);
    return rc;
}

/* A trial file for the report's extras (best config, verdicts, messages): a negative id when
 * it is missing, unreadable or not a regular file (which would block HDF5's open). */
static hid_t open_trial_file(const char *path)
{
    if (bp_input_check(path, BP_EIO, NULL, NULL) < 0)
        return H5I_INVALID_HID;
    return H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
}

static int load(const char *dir, run *r, bp_err *e)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/index.h5", dir) >= sizeof path)
        return bp_err_set(e, BP_EUSAGE, "%s: path too long", dir);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    struct stat sb;
    if (stat(path, &sb) == 0 && bp_input_check(path, BP_EDATA, NULL, e) < 0)
        return BP_EDATA;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return bp_err_set(e, BP_EDATA, "%s: no run index here (is it a bprun run folder?)", path);
    int rc = 0;
    hid_t d = H5Dopen2(f, "summary", H5P_DEFAULT);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 17);
    H5Tset_strpad(st, H5T_STR_NULLTERM);
    hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(row));
    H5Tinsert(mt, "trial", offsetof(row, trial), H5T_NATIVE_UINT32);
    H5Tinsert(mt, "seed", offsetof(row, seed), H5T_NATIVE_UINT64);
    H5Tinsert(mt, "status", offsetof(row, status), st);
    H5Tinsert(mt, "epochs", offsetof(row, epochs), H5T_NATIVE_INT32);
    H5Tinsert(mt, "final_loss", offsetof(row, loss), H5T_NATIVE_DOUBLE);
    H5Tinsert(mt, "final_val_loss", offsetof(row, val_loss), H5T_NATIVE_DOUBLE);
    H5Tinsert(mt, "final_accuracy", offsetof(row, acc), H5T_NATIVE_DOUBLE);
    H5Tinsert(mt, "final_val_accuracy", offsetof(row, val_acc), H5T_NATIVE_DOUBLE);
    H5Tinsert(mt, "best_val_loss", offsetof(row, best_val), H5T_NATIVE_DOUBLE);
    H5Tinsert(mt, "wall_seconds", offsetof(row, secs), H5T_NATIVE_DOUBLE);
    H5Tinsert(mt, "final_test_loss", offsetof(row, test_loss), H5T_NATIVE_DOUBLE);
    H5Tinsert(mt, "final_test_accuracy", offsetof(row, test_acc), H5T_NATIVE_DOUBLE);
    hid_t ft = d >= 0 ? H5Dget_type(d) : H5I_INVALID_HID;
    /* older indexes have no epochs_to_target: it reads as 0 (no target) */
    if (ft >= 0 && H5Tget_member_index(ft, "epochs_to_target") >= 0)
        H5Tinsert(mt, "epochs_to_target", offsetof(row, to_target), H5T_NATIVE_INT32);
    /* older indexes have no cost records: they read as 0 (unknown) */
    if (ft >= 0 && H5Tget_member_index(ft, "samples_per_second") >= 0)
        H5Tinsert(mt, "samples_per_second", offsetof(row, sps), H5T_NATIVE_DOUBLE);
    if (ft >= 0 && H5Tget_member_index(ft, "peak_rss_bytes") >= 0)
        H5Tinsert(mt, "peak_rss_bytes", offsetof(row, rss), H5T_NATIVE_DOUBLE);
    if (ft >= 0 && H5Tget_member_index(ft, "work_bytes") >= 0)
        H5Tinsert(mt, "work_bytes", offsetof(row, work), H5T_NATIVE_DOUBLE);
    if (ft >= 0)
        H5Tclose(ft);
    hid_t sp = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    if (n < 0) {
        rc = bp_err_set(e, BP_EDATA, "%s: no /summary table", path);
        goto out;
    }
    r->n = (size_t)n;
    if (!(r->rows = calloc(r->n ? r->n : 1, sizeof *r->rows))) {
        rc = bp_err_set(e, BP_ENOMEM, "out of memory");
        goto out;
    }
    if (r->n && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, r->rows) < 0) {
        rc = bp_err_set(e, BP_EDATA, "%s: cannot read /summary", path);
        goto out;
    }
    if (H5Aexists(f, "axes") > 0) {
        hid_t a = H5Aopen(f, "axes", H5P_DEFAULT), asp = H5Aget_space(a);
        hssize_t na = H5Sget_simple_extent_npoints(asp);
        H5Sclose(asp);
        H5Aclose(a);
        if (na > 0 && read_strings(f, "axes", 1, (size_t)na, &r->axes) == 0) {
            r->n_axes = (size_t)na;
            char **flat = NULL;
            if (H5Lexists(f, "params", H5P_DEFAULT) > 0 &&
                read_strings(f, "params", 0, r->n * r->n_axes, &flat) == 0) {
                for (size_t i = 0; i < r->n; i++) {
                    r->rows[i].params = calloc(r->n_axes, sizeof(char *));
                    for (size_t j = 0; r->rows[i].params && j < r->n_axes; j++)
                        r->rows[i].params[j] = flat[i * r->n_axes + j];
                }
                free(flat);
            } else {
                r->n_axes = 0;
            }
        }
    }
out:
    if (sp >= 0)
        H5Sclose(sp);
    if (d >= 0)
        H5Dclose(d);
    H5Tclose(mt);
    H5Tclose(st);
    H5Fclose(f);
    return rc;
}

/* 0 completed, 1 pruned, 2 diverged or failed, 3 not finished */
static int rank_class(const row *r)
{
    if (!strcmp(r->status, "completed"))
        return 0;
    if (!strcmp(r->status, "pruned"))
        return 1;
    if (!strcmp(r->status, "diverged") || !strcmp(r->status, "failed"))
        return 2;
    return 3;
}

static double score(const row *r)
{
    return !isnan(r->val_loss) ? r->val_loss : r->loss;
}

static int by_rank(const void *pa, const void *pb)
{
    const row *a = pa, *b = pb;
    int ca = rank_class(a), cb = rank_class(b);
    if (ca != cb)
        return ca - cb;
    double sa = score(a), sb = score(b);
    if (ca <= 1 && !isnan(sa) && !isnan(sb) && sa != sb)
        return sa < sb ? -1 : 1;
    return a->trial < b->trial ? -1 : a->trial > b->trial;
}

static const char *num(double v, char *buf, size_t n, int json)
{
    if (isnan(v))
        snprintf(buf, n, json ? "null" : "-");
    else if (isinf(v))
        snprintf(buf, n, json ? "null" : (v > 0 ? "inf" : "-inf"));
    else
        snprintf(buf, n, "%.6g", v);
    return buf;
}

/* fixed decimals for accuracies and seconds in the text tables */
static const char *fixed(double v, int decimals, char *buf, size_t n)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.*f", decimals, v);
    return buf;
}

/* a cost record for the text tables: "-" when unknown (0); bytes in MiB */
static const char *cost(double v, int mib, char *buf, size_t n)
{
    if (!(v > 0))
        snprintf(buf, n, "-");
    else if (mib)
        snprintf(buf, n, "%.1fM", v / 1048576.0);
    else
        snprintf(buf, n, "%.0f", v);
    return buf;
}

/* a cost record for csv and json: empty / null when unknown (0) */
static const char *cost_num(double v, char *buf, size_t n, int json)
{
    if (!(v > 0))
        snprintf(buf, n, "%s", json ? "null" : "");
    else
        snprintf(buf, n, "%.17g", v);
    return buf;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", *s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_str(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* one group = trials with equal swept values (the repeats of one point) */
typedef struct group {
    size_t first;     /* index into rows sorted by trial id */
    size_t n, ok;
    double mean, sd, min, max;
    int target;       /* a target loss was set for some of its trials */
    size_t reached;   /* trials that reached it */
    double t_mean, t_median;  /* epochs to target over those (NaN: none) */
} group;

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* success: fraction of the point's trials that reached the target (when one was set), else
 * that completed */
static double success(const group *q)
{
    return (double)(q->target ? q->reached : q->ok) / (double)q->n;
}

static const char *to_target(const row *x, char *buf, size_t n, int json)
{
    if (x->to_target > 0)
        snprintf(buf, n, "%d", (int)x->to_target);
    else
        snprintf(buf, n, "%s", json ? "null" : x->to_target < 0 ? "never" : "-");
    return buf;
}

static int same_point(const run *r, const row *a, const row *b)
{
    for (size_t j = 0; j < r->n_axes; j++)
        if (strcmp(a->params[j], b->params[j]))
            return 0;
    return 1;
}

static void print_best(FILE *f, const char *dir, const row *best, const run *r, bp_report_format fmt)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/trials/%04u.h5", dir, best->trial);
    hid_t tf = open_trial_file(path);
    char *cfg = tf >= 0 ? read_str_attr(tf, "resolved_config") : NULL;
    if (tf >= 0)
        H5Fclose(tf);
    if (fmt == BP_REPORT_MARKDOWN)
        fprintf(f, "\n**Best setting** (trial %04u):\n\n```yaml\n", best->trial);
    else
        fprintf(f, "\nbest setting (trial %04u), ready to rerun:\n", best->trial);
    (void)r;
    if (cfg)
        fputs(cfg, f);
    else
        fprintf(f, "# (the trial file %s could not be read)\n", path);
    if (fmt == BP_REPORT_MARKDOWN)
        fputs("```\n", f);
    free(cfg);
}

/* Diagnostics: counts of the trials' verdicts (docs/DIAGNOSTICS.md), over all trials and, for
 * a sweep, per point; nothing when no trial file has one. */
static void count_verdicts(FILE *f, const run *r, const row *point, int json)
{
    char names[8][24];
    size_t count[8] = { 0 }, nv = 0;
    for (size_t i = 0; i < r->n; i++) {
        const row *x = &r->rows[i];
        if (!x->verdict[0] || (point && !same_point(r, point, x)))
            continue;
        size_t k = 0;
        while (k < nv && strcmp(names[k], x->verdict))
            k++;
        if (k == nv && nv < 8)
            snprintf(names[nv++], sizeof names[0], "%s", x->verdict);
        if (k < nv)
            count[k]++;
    }
    if (json) {
        fputc('{', f);
        for (size_t k = 0; k < nv; k++) {
            fputs(k ? ", " : "", f);
            json_str(f, names[k]);
            fprintf(f, ": %zu", count[k]);
        }
        fputc('}', f);
        return;
    }
    for (size_t k = 0; k < nv; k++)
        fprintf(f, "%s %s %zu", k ? "," : "", names[k], count[k]);
    fputc('\n', f);
}

static void print_verdicts(FILE *f, const run *r, int md)
{
    size_t any = 0;
    for (size_t i = 0; i < r->n; i++)
        any += r->rows[i].verdict[0] != '\0';
    if (!any)
        return;
    fprintf(f, "\n%sverdicts over %zu trial%s:", md ? "**Diagnostics** " : "diagnostics: ", any,
            bp_s(any));
    count_verdicts(f, r, NULL, 0);
    if (!r->n_axes)
        return;
    for (size_t i = 0; i < r->n; i++) {
        size_t k = 0;
        while (k < i && !same_point(r, &r->rows[k], &r->rows[i]))
            k++;
        if (k < i)
            continue;
        fputs(md ? "- " : "  ", f);
        for (size_t j = 0; j < r->n_axes; j++)
            fprintf(f, "%s%s=%s", j ? " " : "", r->axes[j], r->rows[i].params[j]);
        fputc(':', f);
        count_verdicts(f, r, &r->rows[i], 0);
    }
}

/* The trials' verdicts and, per sweep point, the distinct minima of its completed trials'
 * final weights (minima.h); rows get verdict, minimum and dloss. Returns the number of rows
 * with a minimum, or BP_ENOMEM. */
static int find_minima(const char *dir, run *r, bp_err *e)
{
    char path[4096];
    size_t n1 = r->n ? r->n : 1, m = 0;
    unsigned *ids = calloc(n1, sizeof *ids);
    size_t *point = calloc(n1, sizeof *point), *who = calloc(n1, sizeof *who);
    int *mins = calloc(n1, sizeof *mins);
    double *loss = calloc(n1, sizeof *loss);
    int rc = 0;
    if (!ids || !point || !who || !mins || !loss) {
        rc = bp_err_set(e, BP_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < r->n; i++) {
        row *x = &r->rows[i];
        x->minimum = -1;
        x->verdict[0] = '\0';
        x->dloss = NAN;
        if ((size_t)snprintf(path, sizeof path, "%s/trials/%04u.h5", dir, x->trial) >= sizeof path)
            continue;
        hid_t tf = open_trial_file(path);
        if (tf < 0)
            continue;
        char *v = read_str_attr(tf, "verdict");
        if (v)
            snprintf(x->verdict, sizeof x->verdict, "%s", v);
        free(v);
        H5Fclose(tf);
        if (rank_class(x) != 0 || !x->verdict[0])
            continue;
        size_t k = 0;
        while (k < i && r->n_axes && !same_point(r, &r->rows[k], x))
            k++;
        ids[m] = x->trial;
        point[m] = r->n_axes ? k : 0;
        who[m++] = i;
    }
    if ((rc = bp_minima_of_run(dir, ids, point, m, mins, loss, e)) < 0)
        goto out;
    for (size_t q = 0; q < m; q++) {
        r->rows[who[q]].minimum = mins[q];
        r->rows[who[q]].dloss = loss[q];
    }
out:
    free(ids);
    free(point);
    free(who);
    free(mins);
    free(loss);
    return rc;
}

/* One distinct minimum of a point: its trials, loss range, verdicts. */
typedef struct minimum {
    size_t count;
    double lo, hi;
    char verdicts[160];
} minimum;

/* The minima of the point of row `first` (n_min of them, numbered 0..); returns the number of
 * trials with a minimum. out has room for r->n entries. */
static size_t point_minima(const run *r, size_t first, minimum *out, size_t *n_min)
{
    size_t total = 0, nm = 0;
    for (size_t i = 0; i < r->n; i++) {
        const row *x = &r->rows[i];
        if (x->minimum < 0 || (r->n_axes && !same_point(r, &r->rows[first], x)))
            continue;
        size_t k = (size_t)x->minimum;
        while (nm <= k)
            out[nm++] = (minimum){ 0, INFINITY, -INFINITY, "" };
        out[k].count++;
        out[k].lo = fmin(out[k].lo, x->dloss);
        out[k].hi = fmax(out[k].hi, x->dloss);
        total++;
    }
    for (size_t k = 0; k < nm; k++) { /* verdict counts, in order of first appearance */
        char names[8][24];
        size_t cnt[8] = { 0 }, nv = 0, len = 0;
        for (size_t i = 0; i < r->n; i++) {
            const row *x = &r->rows[i];
            if (x->minimum != (int)k || (r->n_axes && !same_point(r, &r->rows[first], x)))
                continue;
            size_t v = 0;
            while (v < nv && strcmp(names[v], x->verdict))
                v++;
            if (v == nv && nv < 8)
                snprintf(names[nv++], sizeof names[0], "%s", x->verdict);
            if (v < nv)
                cnt[v]++;
        }
        for (size_t v = 0; v < nv && len < sizeof out[k].verdicts; v++) {
            int wr = snprintf(out[k].verdicts + len, sizeof out[k].verdicts - len, "%s%s %zu",
                              v ? ", " : "", names[v], cnt[v]);
            len += wr > 0 ? (size_t)wr : 0;
        }
    }
    *n_min = nm;
    return total;
}

static void print_minima(FILE *f, const run *r, int md, minimum *mins)
{
    char b[3][40];
    int *done = calloc(r->n ? r->n : 1, sizeof *done);
    if (!done)
        return;
    int header = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (done[i] || r->rows[i].minimum < 0)
            continue;
        for (size_t k = i; k < r->n; k++)
            if (!r->n_axes || same_point(r, &r->rows[i], &r->rows[k]))
                done[k] = 1;
        size_t nm, total = point_minima(r, i, mins, &nm);
        if (!header) {
            fprintf(f, "\n%sdistinct minima per point (final weights grouped by loss and distance "
                    "up to hidden-unit order and sign: diagnostics.minima; loss = full-batch "
                    "training loss):\n", md ? "**Minima** " : "");
            header = 1;
        }
        fputc('\n', f);
        if (r->n_axes) {
            for (size_t j = 0; j < r->n_axes; j++)
                fprintf(f, "%s%s=%s", j ? " " : "", r->axes[j], r->rows[i].params[j]);
            fputs(": ", f);
        }
        fprintf(f, "%zu solution%s, %zu distinct minim%s, the best reached by %.0f%%\n%s", total, bp_s(total), nm,
                nm == 1 ? "um" : "a", 100.0 * (double)mins[0].count / (double)total,
                md ? "\n" : "");
        const char *sep = md ? " | " : "  ";
        if (md)
            fputs("| minimum | loss | max loss | reached | share | verdicts |\n"
                  "|---:|---:|---:|---:|---:|---|\n", f);
        else
            fprintf(f, "  %-7s%s%-11s%s%-11s%s%7s%s%5s%s%s\n", "minimum", sep, "loss", sep,
                    "max loss", sep, "reached", sep, "share", sep, "verdicts");
        for (size_t k = 0; k < nm; k++) {
            char share[16];
            snprintf(share, sizeof share, "%.0f%%", 100.0 * (double)mins[k].count / (double)total);
            fprintf(f, "%s%-7zu%s%-11s%s%-11s%s%7zu%s%5s%s%s%s\n", md ? "| " : "  ", k + 1, sep,
                    num(mins[k].lo, b[0], 40, 0), sep, num(mins[k].hi, b[1], 40, 0), sep,
                    mins[k].count, sep, share, sep, mins[k].verdicts, md ? " |" : "");
        }
    }
    free(done);
}

int bp_report(const char *dir, const bp_report_opts *o, FILE *f, bp_err *e)
{
    run r = { 0 };
    int rc = load(dir, &r, e);
    if (rc) {
        run_free(&r);
        return rc;
    }
    int n_min = find_minima(dir, &r, e);
    if (n_min < 0) {
        run_free(&r);
        return n_min;
    }
    int any_verdict = 0;
    for (size_t i = 0; i < r.n; i++)
        any_verdict |= r.rows[i].verdict[0] != '\0';
    row *ranked = malloc((r.n ? r.n : 1) * sizeof *ranked);
    group *g = calloc(r.n ? r.n : 1, sizeof *g);
    int *ep = malloc((r.n ? r.n : 1) * sizeof *ep);
    minimum *mins = malloc((r.n ? r.n : 1) * sizeof *mins);
    if (!ranked || !g || !ep || !mins) {
        free(ranked);
        free(g);
        free(ep);
        free(mins);
        run_free(&r);
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    }
    memcpy(ranked, r.rows, r.n * sizeof *ranked);
    qsort(ranked, r.n, sizeof *ranked, by_rank);
    size_t shown = o->top > 0 && (size_t)o->top < r.n ? (size_t)o->top : r.n;
    size_t done = 0, ok = 0;
    int any_target = 0;
    for (size_t i = 0; i < r.n; i++) {
        done += rank_class(&r.rows[i]) < 3;
        ok += rank_class(&r.rows[i]) == 0;
        any_target |= r.rows[i].to_target != 0;
    }
    /* groups over repeats, in trial order */
    size_t ng = 0;
    for (size_t i = 0; i < r.n; i++) {
        size_t k = 0;
        while (k < ng && !(r.n_axes ? same_point(&r, &r.rows[g[k].first], &r.rows[i]) : 1))
            k++;
        if (k == ng)
            g[ng++].first = i;
        group *q = &g[k];
        q->n++;
        q->target |= r.rows[i].to_target != 0;
        q->reached += r.rows[i].to_target > 0;
        if (rank_class(&r.rows[i]) != 0)
            continue;
        double s = score(&r.rows[i]);
        q->ok++;
        double d = s - q->mean;
        q->mean += d / (double)q->ok;
        q->sd += d * (s - q->mean);
        q->min = q->ok == 1 || s < q->min ? s : q->min;
        q->max = q->ok == 1 || s > q->max ? s : q->max;
    }
    for (size_t k = 0; k < ng; k++) {
        g[k].sd = g[k].ok > 1 ? sqrt(g[k].sd / (double)(g[k].ok - 1)) : (g[k].ok ? 0.0 : NAN);
        size_t m = 0;
        for (size_t i = 0; i < r.n; i++)
            if (r.rows[i].to_target > 0 &&
                (!r.n_axes || same_point(&r, &r.rows[g[k].first], &r.rows[i])))
                ep[m++] = r.rows[i].to_target;
        g[k].t_mean = g[k].t_median = NAN;
        if (m) {
            double sum = 0;
            qsort(ep, m, sizeof *ep, cmp_int);
            for (size_t i = 0; i < m; i++)
                sum += ep[i];
            g[k].t_mean = sum / (double)m;
            g[k].t_median = m % 2 ? ep[m / 2] : 0.5 * (ep[m / 2 - 1] + ep[m / 2]);
        }
    }
    char b[8][40], c[3][40];
    const char *metric = "final val_loss (or loss without validation data)";
    if (o->format == BP_REPORT_JSON) {
        fprintf(f, "{\"run\": ");
        json_str(f, dir);
        fprintf(f, ", \"trials\": %zu, \"finished\": %zu, \"completed\": %zu, \"axes\": [", r.n, done, ok);
        for (size_t j = 0; j < r.n_axes; j++) {
            fputs(j ? ", " : "", f);
            json_str(f, r.axes[j]);
        }
        fputs("],\n \"ranked\": [\n", f);
        for (size_t i = 0; i < shown; i++) {
            const row *x = &ranked[i];
            fprintf(f, "  {\"rank\": %zu, \"trial\": %u, \"seed\": %llu, \"status\": ", i + 1, x->trial,
                    (unsigned long long)x->seed);
            json_str(f, x->status);
            fputs(", \"params\": {", f);
            for (size_t j = 0; j < r.n_axes; j++) {
                fputs(j ? ", " : "", f);
                json_str(f, r.axes[j]);
                fputs(": ", f);
                json_str(f, x->params[j]);
            }
            fprintf(f, "}, \"epochs\": %d, \"loss\": %s, \"accuracy\": %s, \"val_loss\": %s, "
                    "\"val_accuracy\": %s, \"best_val_loss\": %s, \"test_accuracy\": %s, "
                    "\"seconds\": %s, \"epochs_to_target\": %s, \"samples_per_second\": %s, "
                    "\"peak_rss_bytes\": %s, \"work_bytes\": %s%s%s", x->epochs,
                    num(x->loss, b[0], 40, 1),
                    num(x->acc, b[1], 40, 1), num(x->val_loss, b[2], 40, 1),
                    num(x->val_acc, b[3], 40, 1), num(x->best_val, b[4], 40, 1),
                    num(x->test_acc, b[5], 40, 1), num(x->secs, b[6], 40, 1),
                    to_target(x, b[7], 40, 1), cost_num(x->sps, c[0], 40, 1),
                    cost_num(x->rss, c[1], 40, 1), cost_num(x->work, c[2], 40, 1),
                    any_verdict ? "" : "}", any_verdict ? "" : i + 1 < shown ? ",\n" : "\n");
            if (any_verdict) {
                fputs(", \"verdict\": ", f);
                if (x->verdict[0])
                    json_str(f, x->verdict);
                else
                    fputs("null", f);
                if (x->minimum >= 0)
                    fprintf(f, ", \"minimum\": %d", x->minimum + 1);
                else
                    fputs(", \"minimum\": null", f);
                fprintf(f, "}%s\n", i + 1 < shown ? "," : "");
            }
        }
        fputs(" ],\n \"groups\": [\n", f);
        for (size_t k = 0; k < ng; k++) {
            const row *x = &r.rows[g[k].first];
            fputs("  {\"params\": {", f);
            for (size_t j = 0; j < r.n_axes; j++) {
                fputs(j ? ", " : "", f);
                json_str(f, r.axes[j]);
                fputs(": ", f);
                json_str(f, x->params[j]);
            }
            fprintf(f, "}, \"trials\": %zu, \"completed\": %zu, \"mean\": %s, \"std\": %s, "
                    "\"min\": %s, \"max\": %s, \"success\": %s", g[k].n, g[k].ok,
                    num(g[k].ok ? g[k].mean : NAN, b[0], 40, 1), num(g[k].sd, b[1], 40, 1),
                    num(g[k].ok ? g[k].min : NAN, b[2], 40, 1),
                    num(g[k].ok ? g[k].max : NAN, b[3], 40, 1), num(success(&g[k]), b[4], 40, 1));
            if (g[k].target)
                fprintf(f, ", \"reached_target\": %zu, \"epochs_to_target_mean\": %s, "
                        "\"epochs_to_target_median\": %s", g[k].reached,
                        num(g[k].t_mean, b[5], 40, 1), num(g[k].t_median, b[6], 40, 1));
            size_t nm, total = point_minima(&r, g[k].first, mins, &nm);
            if (total) {
                fprintf(f, ", \"solutions\": %zu, \"best_share\": %s, \"minima\": [", total,
                        num((double)mins[0].count / (double)total, b[0], 40, 1));
                for (size_t q = 0; q < nm; q++) {
                    fprintf(f, "%s{\"minimum\": %zu, \"loss\": %s, \"max_loss\": %s, "
                            "\"reached\": %zu, \"verdicts\": ", q ? ", " : "", q + 1,
                            num(mins[q].lo, b[1], 40, 1), num(mins[q].hi, b[2], 40, 1),
                            mins[q].count);
                    json_str(f, mins[q].verdicts);
                    fputc('}', f);
                }
                fputc(']', f);
            }
            if (any_verdict) {
                fputs(", \"verdicts\": ", f);
                count_verdicts(f, &r, &r.rows[g[k].first], 1);
            }
            fprintf(f, "}%s\n", k + 1 < ng ? "," : "");
        }
        fprintf(f, " ]}\n");
    } else if (o->format == BP_REPORT_CSV) {
        fputs("rank,trial,seed", f);
        for (size_t j = 0; j < r.n_axes; j++) {
            fputc(',', f);
            csv_str(f, r.axes[j]);
        }
        fputs(",status,epochs,loss,accuracy,val_loss,val_accuracy,best_val_loss,test_accuracy,seconds"
              ",samples_per_second,peak_rss_bytes,work_bytes", f);
        fputs(any_target ? ",epochs_to_target" : "", f);
        fputs(any_verdict ? ",verdict,minimum\n" : "\n", f);
        for (size_t i = 0; i < shown; i++) {
            const row *x = &ranked[i];
            fprintf(f, "%zu,%u,%llu", i + 1, x->trial, (unsigned long long)x->seed);
            for (size_t j = 0; j < r.n_axes; j++) {
                fputc(',', f);
                csv_str(f, x->params[j]);
            }
            fprintf(f, ",%s,%d,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s", x->status, x->epochs,
                    num(x->loss, b[0], 40, 0), num(x->acc, b[1], 40, 0), num(x->val_loss, b[2], 40, 0),
                    num(x->val_acc, b[3], 40, 0), num(x->best_val, b[4], 40, 0),
                    num(x->test_acc, b[5], 40, 0), num(x->secs, b[6], 40, 0),
                    cost_num(x->sps, c[0], 40, 0), cost_num(x->rss, c[1], 40, 0),
                    cost_num(x->work, c[2], 40, 0));
            if (any_target)
                fprintf(f, ",%s", x->to_target > 0 ? to_target(x, b[7], 40, 0)
                                                   : x->to_target < 0 ? "-1" : "");
            if (any_verdict) {
                fprintf(f, ",%s,", x->verdict);
                if (x->minimum >= 0)
                    fprintf(f, "%d", x->minimum + 1);
            }
            fputc('\n', f);
        }
    } else {
        int md = o->format == BP_REPORT_MARKDOWN;
        fprintf(f, "%s%s: %zu trial%s, %zu finished, %zu completed; ranked by %s\n\n",
                md ? "**Run** " : "run ", dir, r.n, bp_s(r.n), done, ok, metric);
        /* widths */
        size_t w[16] = { 0 };
        for (size_t j = 0; j < r.n_axes && j < 16; j++) {
            w[j] = strlen(r.axes[j]);
            for (size_t i = 0; i < shown; i++)
                if (strlen(ranked[i].params[j]) > w[j])
                    w[j] = strlen(ranked[i].params[j]);
        }
        const char *sep = md ? " | " : "  ";
        if (md)
            fputs("| ", f);
        fprintf(f, "%-4s%s%-5s", "rank", sep, "trial");
        for (size_t j = 0; j < r.n_axes && j < 16; j++)
            fprintf(f, "%s%-*s", sep, (int)w[j], r.axes[j]);
        fprintf(f, "%s%-11s%s%6s", sep, "status", sep, "epochs");
        if (any_target)
            fprintf(f, "%s%9s", sep, "to_target");
        fprintf(f, "%s%-11s%s%-8s%s%-11s%s%-8s%s%-8s%s%8s%s%9s%s%9s%s%9s%s\n", sep, "loss", sep,
                "acc", sep, "val_loss", sep, "val_acc", sep, "test_acc", sep, "seconds", sep,
                "samples/s", sep, "peak_rss", sep, "work_mem", md ? " |" : "");
        if (md) {
            fputs("|---|---|", f);
            for (size_t j = 0; j < r.n_axes && j < 16; j++)
                fputs("---|", f);
            fputs(any_target ? "---|---:|---:|" : "---|---:|", f);
            fputs("---:|---:|---:|---:|---:|---:|---:|---:|---:|\n", f);
        }
        for (size_t i = 0; i < shown; i++) {
            const row *x = &ranked[i];
            if (md)
                fputs("| ", f);
            fprintf(f, "%-4zu%s%04u ", i + 1, sep, x->trial);
            for (size_t j = 0; j < r.n_axes && j < 16; j++)
                fprintf(f, "%s%-*s", sep, (int)w[j], x->params[j]);
            fprintf(f, "%s%-11s%s%6d", sep, x->status, sep, x->epochs);
            if (any_target)
                fprintf(f, "%s%9s", sep, to_target(x, b[6], 40, 0));
            fprintf(f, "%s%-11s%s%-8s%s%-11s%s%-8s%s%-8s%s%8s%s%9s%s%9s%s%9s%s\n", sep,
                    isnan(x->loss) && x->epochs > 0 ? "nan" : num(x->loss, b[0], 40, 0), sep,
                    fixed(x->acc, 4, b[1], 40),
                    sep, num(x->val_loss, b[2], 40, 0), sep, fixed(x->val_acc, 4, b[3], 40), sep,
                    fixed(x->test_acc, 4, b[4], 40), sep, fixed(x->secs, 2, b[5], 40), sep,
                    cost(x->sps, 0, c[0], 40), sep, cost(x->rss, 1, c[1], 40), sep,
                    cost(x->work, 1, c[2], 40), md ? " |" : "");
        }
        size_t notes = 0;
        for (size_t i = 0; i < r.n && notes < 20; i++) {
            const row *x = &r.rows[i];
            if (rank_class(x) != 2 && strcmp(x->status, "interrupted"))
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/trials/%04u.h5", dir, x->trial);
            hid_t tf = open_trial_file(path);
            char *msg = tf >= 0 ? read_str_attr(tf, "message") : NULL;
            if (tf >= 0)
                H5Fclose(tf);
            if (msg && *msg) {
                bp_text_oneline(msg);   /* a message written by another program, too */
                fprintf(f, "%snote: trial %04u %s: %s\n", notes ? "" : "\n", x->trial, x->status, msg);
                notes++;
            }
            free(msg);
        }
        if (r.n_axes && ng < r.n) {
            fprintf(f, "\n%sper point over its repeats (%s%s):\n\n", md ? "**Summary** " : "summary ",
                    metric, any_target ? "; success: reached train.target_loss; to_target, median: "
                    "epochs to reach it, over the trials that did" : "");
            if (md)
                fputs("| ", f);
            for (size_t j = 0; j < r.n_axes && j < 16; j++)
                fprintf(f, "%s%-*s", j ? sep : "", (int)w[j], r.axes[j]);
            fprintf(f, "%s%5s%s%-9s%s%-11s%s%-11s%s%-11s%s%-11s", sep, "runs", sep, "success",
                    sep, "mean", sep, "std", sep, "min", sep, "max");
            if (any_target)
                fprintf(f, "%s%-11s%s%-11s", sep, "to_target", sep, "median");
            fputs(md ? " |\n" : "\n", f);
            if (md) {
                fputs("|", f);
                for (size_t j = 0; j < r.n_axes && j < 16; j++)
                    fputs("---|", f);
                fputs(any_target ? "---:|---:|---:|---:|---:|---:|---:|---:|\n"
                                 : "---:|---:|---:|---:|---:|---:|\n", f);
            }
            for (size_t k = 0; k < ng; k++) {
                const row *x = &r.rows[g[k].first];
                if (md)
                    fputs("| ", f);
                for (size_t j = 0; j < r.n_axes && j < 16; j++)
                    fprintf(f, "%s%-*s", j ? sep : "", (int)w[j], x->params[j]);
                char rate[16];
                snprintf(rate, sizeof rate, "%.0f%%", 100.0 * success(&g[k]));
                fprintf(f, "%s%5zu%s%-9s%s%-11s%s%-11s%s%-11s%s%-11s", sep, g[k].n, sep, rate,
                        sep, num(g[k].ok ? g[k].mean : NAN, b[0], 40, 0), sep,
                        num(g[k].sd, b[1], 40, 0), sep, num(g[k].ok ? g[k].min : NAN, b[2], 40, 0),
                        sep, num(g[k].ok ? g[k].max : NAN, b[3], 40, 0));
                if (any_target)
                    fprintf(f, "%s%-11s%s%-11s", sep, num(g[k].t_mean, b[4], 40, 0), sep,
                            num(g[k].t_median, b[5], 40, 0));
                fputs(md ? " |\n" : "\n", f);
            }
        }
        if (ok && (r.n_axes || r.n > 1))
            print_best(f, dir, &ranked[0], &r, o->format);
        print_verdicts(f, &r, md);
        if (n_min > 0)
            print_minima(f, &r, md, mins);
    }
    free(mins);
    free(ranked);
    free(g);
    free(ep);
    run_free(&r);
    return 0;
}
