#include "autoconf.h"
#include "report.h"

#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "epochs.h"
#include "input.h"
#include "minima.h"
#include "report_pbt.h"
#include "report_search.h"

const char *const bp_report_format_names[BP_REPORT_FORMAT_COUNT] = { "text", "csv", "markdown",
                                                                     "json", "html" };
const char *const bp_report_table_names[BP_TABLE_COUNT] = { "trials", "points", "comparisons",
                                                                     "epochs", "lineage", "search" };

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
    const char *dir;  /* the run folder it came from (borrowed) */
} row;

typedef struct run {
    size_t n, n_axes;
    row *rows;
    char **axes;
    char *best_config;
    char *race;       /* the index's `race` attribute (sweep.race's decisions), or NULL */
    char *search;     /* the index's `search` attribute (sweep.search's settings), or NULL */
    int verdicts;     /* the index's summary holds the verdicts (else: the trial files) */
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
    free(r->race);
    free(r->search);
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
    hid_t vt = H5Tcopy(H5T_C_S1);
    H5Tset_size(vt, sizeof r->rows->verdict);
    H5Tset_strpad(vt, H5T_STR_NULLTERM);
    /* older indexes have no verdicts: find_minima reads them from the trial files */
    if (ft >= 0 && H5Tget_member_index(ft, "verdict") >= 0) {
        H5Tinsert(mt, "verdict", offsetof(row, verdict), vt);
        r->verdicts = 1;
    }
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
    r->race = bp_epochs_str_attr(f, "race");
    r->search = bp_epochs_str_attr(f, "search");
    if (H5Aexists(f, "axes") > 0) {
        hid_t a = H5Aopen(f, "axes", H5P_DEFAULT), asp = H5Aget_space(a);
        hssize_t na = H5Sget_simple_extent_npoints(asp);
        H5Sclose(asp);
        H5Aclose(a);
        if (na > 0 && bp_epochs_strings(f, "axes", 1, (size_t)na, &r->axes) == 0) {
            r->n_axes = (size_t)na;
            char **flat = NULL;
            if (H5Lexists(f, "params", H5P_DEFAULT) > 0 &&
                bp_epochs_strings(f, "params", 0, r->n * r->n_axes, &flat) == 0) {
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
    H5Tclose(vt);
    H5Fclose(f);
    return rc;
}

/* 0 completed, 1 pruned, 2 diverged or failed, 3 not finished */
static int rank_class(const row *r)
{
    if (!strcmp(r->status, "completed"))
        return 0;
    if (!strcmp(r->status, "pruned") || !strcmp(r->status, "skipped"))
        return 1;
    if (!strcmp(r->status, "diverged") || !strcmp(r->status, "failed"))
        return 2;
    return 3;
}

/* A row as points.h takes it. */
static bp_point_trial as_trial(const row *x)
{
    return (bp_point_trial){ .trial = x->trial, .seed = x->seed, .status = x->status,
                             .epochs = x->epochs, .loss = x->loss, .val_loss = x->val_loss,
                             .best_val_loss = x->best_val, .accuracy = x->acc,
                             .val_accuracy = x->val_acc, .test_loss = x->test_loss,
                             .test_accuracy = x->test_acc, .seconds = x->secs,
                             .to_target = x->to_target, .params = x->params };
}

static _Thread_local bp_rank_metric rank_metric = BP_RANK_LOSS;

/* the trial's value of the ranking metric (pruned trials rank by theirs too), NaN: none */
static double score(const row *r)
{
    bp_point_trial t = as_trial(r);
    t.status = "completed";
    return bp_point_value(&t, rank_metric);
}

static int by_rank(const void *pa, const void *pb)
{
    const row *a = pa, *b = pb;
    int ca = rank_class(a), cb = rank_class(b);
    if (ca != cb)
        return ca - cb;
    double sa = score(a), sb = score(b);
    if (ca <= 1 && isnan(sa) != isnan(sb))
        return isnan(sa) - isnan(sb);
    if (ca <= 1 && !isnan(sa) && !isnan(sb) && sa != sb)
        return (bp_rank_metric_higher(rank_metric) ? sa > sb : sa < sb) ? -1 : 1;
    return a->trial < b->trial ? -1 : a->trial > b->trial;
}

/* A number for text (mode 0: "-" when missing, 6 digits), json (1: null, 17 digits) or csv
 * (2: empty, 17 digits). */
static const char *num(double v, char *buf, size_t n, int mode)
{
    if (isnan(v) || (isinf(v) && mode))
        snprintf(buf, n, "%s", mode == 1 ? "null" : mode == 2 ? "" : "-");
    else if (isinf(v))
        snprintf(buf, n, "%s", v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, n, mode ? "%.17g" : "%.6g", v);
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

/* A config value read back (plain or quoted), NULL when it is not a plain string. */
static char *scalar_of(const char *text)
{
    bp_err e;
    bp_node *n = bp_yaml_parse_value(text, "report", &e);
    char *v = n && n->kind == BP_NODE_SCALAR && n->value ? strdup(n->value) : NULL;
    bp_node_free(n);
    return v;
}

/* A path of the resolved config, relative to the folder bprun ran in (cwd), as an absolute
 * one; NULL when it is none (null, a number, builtin:..., absolute already). */
static char *absolute(const char *value, const char *cwd)
{
    char *v = scalar_of(value);
    char *out = NULL;
    if (v && *v && v[0] != '/' && strncmp(v, "builtin:", 8) && strcmp(v, "null") &&
        strspn(v, "0123456789.eE+-") != strlen(v)) {
        size_t n = strlen(cwd) + strlen(v) + 2;
        if ((out = malloc(n)))
            snprintf(out, n, "%s/%s", cwd, v);
    }
    free(v);
    return out;
}

/* The resolved config with its relative data paths (data.train, data.validation, data.test,
 * model.init.from) made absolute, so that it reruns from wherever it is saved. */
static int print_portable(FILE *f, const char *cfg, const char *cwd)
{
    int in_data = 0, changed = 0;
    for (const char *l = cfg; *l;) {
        const char *end = strchr(l, '\n');
        size_t len = end ? (size_t)(end - l) : strlen(l);
        char *line = strndup(l, len);
        l += len + (end ? 1 : 0);
        if (!line)
            return changed;
        if (line[0] != ' ')
            in_data = !strncmp(line, "data:", 5);
        char *abs = NULL, *from = strstr(line, ", from: ");
        static const char *const keys[] = { "  train: ", "  validation: ", "  test: " };
        for (size_t k = 0; in_data && cwd && !abs && k < 3; k++)
            if (!strncmp(line, keys[k], strlen(keys[k])) && (abs = absolute(line + strlen(keys[k]), cwd))) {
                fputs(keys[k], f);
                bp_yaml_write_string(f, abs, 0);
                fputc('\n', f);
            }
        if (!abs && cwd && !strncmp(line, "  init: {", 9) && from && line[len - 1] == '}') {
            line[len - 1] = '\0';
            if ((abs = absolute(from + 8, cwd))) {
                fprintf(f, "%.*s", (int)(from + 8 - line), line);
                bp_yaml_write_string(f, abs, 1);
                fputs("}\n", f);
            }
            line[len - 1] = '}';
        }
        if (!abs)
            fprintf(f, "%s\n", line);
        changed |= abs != NULL;
        free(abs);
        free(line);
    }
    return changed;
}

/* The best setting's complete config, ready to rerun: the best point's first repeat (whose
 * seed is the experiment's), data paths made absolute. Last in the report, nothing after it. */
static void print_best(FILE *f, const char *dir, const row *best, const run *r,
                       bp_report_format fmt, size_t repeats)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/trials/%04u.h5", dir, best->trial);
    hid_t tf = bp_epochs_open(path);
    char *cfg = tf >= 0 ? bp_epochs_str_attr(tf, "resolved_config") : NULL;
    char *prov = tf >= 0 ? bp_epochs_str_attr(tf, "provenance") : NULL;
    if (tf >= 0)
        H5Fclose(tf);
    char *cwd = NULL, *c = prov ? strstr(prov, "\ncwd: ") : NULL;
    if (c && strcmp(c + 6, "unknown"))
        cwd = strndup(c + 6, strcspn(c + 6, "\n"));
    if (fmt == BP_REPORT_MARKDOWN)
        fprintf(f, "\n**Best setting** (trial %04u):\n\n```yaml\n", best->trial);
    else
        fprintf(f, "\nbest setting (trial %04u), ready to rerun:\n", best->trial);
    (void)r;
    if (repeats > 1)
        fprintf(f, "# the best point's first repeat; to rerun all %zu repeats, add: sweep: "
                "{repeats: %zu}\n", repeats, repeats);
    if (cfg)
        print_portable(f, cfg, cwd);
    else
        fprintf(f, "# (the trial file %s could not be read)\n", path);
    if (fmt == BP_REPORT_MARKDOWN)
        fputs("```\n", f);
    free(cfg);
    free(prov);
    free(cwd);
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
        x->dloss = NAN;
        if (!r->verdicts) { /* an older index: the verdict is in the trial file only */
            x->verdict[0] = '\0';
            if ((size_t)snprintf(path, sizeof path, "%s/trials/%04u.h5", dir, x->trial) >= sizeof path)
                continue;
            hid_t tf = bp_epochs_open(path);
            if (tf < 0)
                continue;
            char *v = bp_epochs_str_attr(tf, "verdict");
            if (v)
                snprintf(x->verdict, sizeof x->verdict, "%s", v);
            free(v);
            H5Fclose(tf);
        }
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

static void json_params(FILE *f, const run *r, const row *x)
{
    fputc('{', f);
    for (size_t j = 0; j < r->n_axes; j++) {
        fputs(j ? ", " : "", f);
        json_str(f, r->axes[j]);
        fputs(": ", f);
        json_str(f, x->params[j]);
    }
    fputc('}', f);
}

/* "train.optimizer.lr=0.01 train.optimizer.name=sgd", or "all trials" without axes */
static void words_params(FILE *f, const run *r, const row *x)
{
    if (!r->n_axes)
        fputs("all trials", f);
    for (size_t j = 0; j < r->n_axes; j++)
        fprintf(f, "%s%s=%s", j ? " " : "", r->axes[j], x->params[j]);
}

/* "final val_loss", "best_val_loss", "epochs_to_target", "seconds" */
static const char *metric_words(bp_rank_metric m, char *buf, size_t n)
{
    int final = m != BP_RANK_BEST_VAL_LOSS && m != BP_RANK_EPOCHS_TO_TARGET &&
                m != BP_RANK_SECONDS;
    snprintf(buf, n, "%s%s", final ? "final " : "", bp_rank_metric_names[m]);
    return buf;
}

static const char *by_name(const bp_points *pt)
{
    return pt->by_median ? "median" : "mean";
}

/* the point's statistics as JSON members (after "params") */
static void point_json(FILE *f, const run *r, const bp_points *pt, size_t k, minimum *mins,
                       int any_verdict)
{
    const bp_point *p = &pt->points[k];
    const row *x = &r->rows[p->trials[0]];
    char b[12][40];
    fprintf(f, "  {\"rank\": %zu, \"params\": ", k + 1);
    json_params(f, r, x);
    fputs(", \"trials\": [", f);
    for (size_t i = 0; i < p->n; i++)
        fprintf(f, "%s%u", i ? ", " : "", r->rows[p->trials[i]].trial);
    fprintf(f, "], \"n\": %zu, \"n_value\": %zu, \"failed\": %zu, \"pruned\": %zu, "
            "\"unfinished\": %zu, \"score\": %s, \"mean\": %s, \"sd\": %s, \"median\": %s, "
            "\"q1\": %s, \"q3\": %s, \"ci_low\": %s, \"ci_high\": %s, \"median_ci_low\": %s, "
            "\"median_ci_high\": %s, \"median_ci_level\": %s", p->n, p->n_value, p->n_failed,
            p->n_pruned, p->n_unfinished, num(p->score, b[0], 40, 1), num(p->d.mean, b[1], 40, 1),
            num(p->d.sd, b[2], 40, 1), num(p->d.median, b[3], 40, 1), num(p->d.q1, b[4], 40, 1),
            num(p->d.q3, b[5], 40, 1), num(p->d.ci_low, b[6], 40, 1),
            num(p->d.ci_high, b[7], 40, 1), num(p->d.med_low, b[8], 40, 1),
            num(p->d.med_high, b[9], 40, 1), num(p->d.med_level, b[10], 40, 1));
    if (p->has_target) {
        size_t fin = p->n - p->n_pruned - p->n_unfinished;
        fprintf(f, ", \"reached\": %zu, \"success\": %s, \"success_ci_low\": %s, "
                "\"success_ci_high\": %s, \"epochs_to_target_median\": %s, "
                "\"epochs_to_target_ci_low\": %s, \"epochs_to_target_ci_high\": %s", p->reached,
                num(fin ? (double)p->reached / (double)fin : NAN, b[0], 40, 1),
                num(p->success_lo, b[1], 40, 1), num(p->success_hi, b[2], 40, 1),
                num(p->km.median, b[3], 40, 1), num(p->km.median_lo, b[4], 40, 1),
                num(p->km.median_hi, b[5], 40, 1));
        fputs(", \"km\": [", f);
        for (size_t i = 0; i < p->km.n_steps; i++) {
            const bp_km_step *st = &p->km.steps[i];
            fprintf(f, "%s{\"epoch\": %s, \"at_risk\": %zu, \"events\": %zu, \"survival\": %s, "
                    "\"ci_low\": %s, \"ci_high\": %s}", i ? ", " : "", num(st->time, b[6], 40, 1),
                    st->at_risk, st->events, num(st->surv, b[7], 40, 1), num(st->lo, b[8], 40, 1),
                    num(st->hi, b[9], 40, 1));
        }
        fputc(']', f);
    }
    size_t nm, total = point_minima(r, p->trials[0], mins, &nm);
    if (total) {
        fprintf(f, ", \"solutions\": %zu, \"best_share\": %s, \"minima\": [", total,
                num((double)mins[0].count / (double)total, b[0], 40, 1));
        for (size_t q = 0; q < nm; q++) {
            fprintf(f, "%s{\"minimum\": %zu, \"loss\": %s, \"max_loss\": %s, \"reached\": %zu, "
                    "\"verdicts\": ", q ? ", " : "", q + 1, num(mins[q].lo, b[1], 40, 1),
                    num(mins[q].hi, b[2], 40, 1), mins[q].count);
            json_str(f, mins[q].verdicts);
            fputc('}', f);
        }
        fputc(']', f);
    }
    if (any_verdict) {
        fputs(", \"verdicts\": ", f);
        count_verdicts(f, r, x, 1);
    }
    fprintf(f, "}%s\n", k + 1 < pt->n_points ? "," : "");
}

static void cmp_json(FILE *f, const bp_points *pt, size_t i)
{
    const bp_comparison *c = &pt->cmp[i];
    char b[8][40];
    fprintf(f, "  {\"a\": %zu, \"b\": %zu, \"paired\": %s, \"n_pairs\": %zu, \"wins_a\": %zu, "
            "\"losses_a\": %zu, \"ties\": %zu, \"diff\": %s, \"diff_ci_low\": %s, "
            "\"diff_ci_high\": %s, \"statistic\": %s, \"p_value\": %s, \"p_holm\": %s, "
            "\"exact\": %s, \"verdict\": ", c->a + 1, c->b + 1, c->paired ? "true" : "false",
            c->n_pairs, c->wins_a, c->losses_a, c->ties, num(c->diff, b[0], 40, 1),
            num(c->diff_lo, b[1], 40, 1), num(c->diff_hi, b[2], 40, 1),
            num(c->statistic, b[3], 40, 1), num(c->p, b[4], 40, 1), num(c->p_holm, b[5], 40, 1),
            c->exact ? "true" : "false");
    json_str(f, c->verdict);
    fprintf(f, "}%s\n", i + 1 < pt->n_cmp ? "," : "");
}

static void points_csv(FILE *f, const run *r, const bp_points *pt, int any_target)
{
    char b[16][40];
    fputs("rank", f);
    for (size_t j = 0; j < r->n_axes; j++) {
        fputc(',', f);
        csv_str(f, r->axes[j]);
    }
    fputs(",n,n_value,failed,pruned,unfinished,score,mean,sd,median,q1,q3,ci_low,ci_high,"
          "median_ci_low,median_ci_high,median_ci_level", f);
    fputs(any_target ? ",reached,success,success_ci_low,success_ci_high,epochs_to_target_median,"
                       "epochs_to_target_ci_low,epochs_to_target_ci_high\n" : "\n", f);
    for (size_t k = 0; k < pt->n_points; k++) {
        const bp_point *p = &pt->points[k];
        const row *x = &r->rows[p->trials[0]];
        fprintf(f, "%zu", k + 1);
        for (size_t j = 0; j < r->n_axes; j++) {
            fputc(',', f);
            csv_str(f, x->params[j]);
        }
        fprintf(f, ",%zu,%zu,%zu,%zu,%zu,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s", p->n, p->n_value,
                p->n_failed, p->n_pruned, p->n_unfinished, num(p->score, b[0], 40, 2),
                num(p->d.mean, b[1], 40, 2), num(p->d.sd, b[2], 40, 2),
                num(p->d.median, b[3], 40, 2), num(p->d.q1, b[4], 40, 2),
                num(p->d.q3, b[5], 40, 2), num(p->d.ci_low, b[6], 40, 2),
                num(p->d.ci_high, b[7], 40, 2), num(p->d.med_low, b[8], 40, 2),
                num(p->d.med_high, b[9], 40, 2), num(p->d.med_level, b[10], 40, 2));
        if (any_target) {
            size_t fin = p->n - p->n_pruned - p->n_unfinished;
            if (p->has_target)
                fprintf(f, ",%zu,%s,%s,%s,%s,%s,%s", p->reached,
                        num(fin ? (double)p->reached / (double)fin : NAN, b[0], 40, 2),
                        num(p->success_lo, b[1], 40, 2), num(p->success_hi, b[2], 40, 2),
                        num(p->km.median, b[3], 40, 2), num(p->km.median_lo, b[4], 40, 2),
                        num(p->km.median_hi, b[5], 40, 2));
            else
                fputs(",,,,,,,", f);
        }
        fputc('\n', f);
    }
}

static void cmp_csv(FILE *f, const bp_points *pt)
{
    char b[8][40];
    fputs("a,b,paired,n_pairs,wins_a,losses_a,ties,diff,diff_ci_low,diff_ci_high,statistic,"
          "p_value,p_holm,exact,verdict\n", f);
    for (size_t i = 0; i < pt->n_cmp; i++) {
        const bp_comparison *c = &pt->cmp[i];
        fprintf(f, "%zu,%zu,%d,%zu,%zu,%zu,%zu,%s,%s,%s,%s,%s,%s,%d,%s\n", c->a + 1, c->b + 1,
                c->paired, c->n_pairs, c->wins_a, c->losses_a, c->ties, num(c->diff, b[0], 40, 2),
                num(c->diff_lo, b[1], 40, 2), num(c->diff_hi, b[2], 40, 2),
                num(c->statistic, b[3], 40, 2), num(c->p, b[4], 40, 2),
                num(c->p_holm, b[5], 40, 2), c->exact, c->verdict);
    }
}

/* "[lo, hi]" or "-" */
static const char *interval(double lo, double hi, char *buf, size_t n)
{
    char a[40], b[40];
    if (isnan(lo) || isnan(hi))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "[%s, %s]", num(lo, a, 40, 0), num(hi, b, 40, 0));
    return buf;
}

static void points_text(FILE *f, const run *r, const bp_points *pt, int md, int any_target)
{
    const char *sep = md ? " | " : "  ";
    size_t w[16] = { 0 };
    for (size_t j = 0; j < r->n_axes && j < 16; j++) {
        w[j] = strlen(r->axes[j]);
        for (size_t i = 0; i < r->n; i++)
            if (strlen(r->rows[i].params[j]) > w[j])
                w[j] = strlen(r->rows[i].params[j]);
    }
    char mw[64];
    fprintf(f, "\n%spoints over their repeats, ranked by the %s of the %s (%s is better); "
            "failed: diverged or failed repeats, not in the statistics; dropped: repeats pruned by "
            "halving or not needed by a race; 95%% intervals: t for "
            "the mean, order statistics for the median%s:\n\n", md ? "**Points** " : "",
            by_name(pt), metric_words(pt->metric, mw, sizeof mw),
            bp_rank_metric_higher(pt->metric) ? "higher" : "lower",
            any_target ? "; solved: reached the target (Wilson interval); to_solve: Kaplan-Meier "
            "median of the epochs to reach it, unsolved repeats censored" : "");
    if (md)
        fputs("| ", f);
    fprintf(f, "%-4s", "rank");
    for (size_t j = 0; j < r->n_axes && j < 16; j++)
        fprintf(f, "%s%-*s", sep, (int)w[j], r->axes[j]);
    int any_pruned = 0;
    for (size_t k = 0; k < pt->n_points; k++)
        any_pruned |= pt->points[k].n_pruned > 0;
    fprintf(f, "%s%4s%s%6s", sep, "n", sep, "failed");
    if (any_pruned)
        fprintf(f, "%s%7s", sep, "dropped");
    fprintf(f, "%s%-11s%s%-25s%s%-11s%s%-25s", sep, "mean", sep, "95% CI", sep, "median", sep,
            "95% CI (median)");
    if (any_target)
        fprintf(f, "%s%-7s%s%-17s%s%-9s%s%-19s", sep, "solved", sep, "95% CI", sep, "to_solve",
                sep, "95% CI");
    fputs(md ? " |\n" : "\n", f);
    if (md) {
        fputs("|---:|", f);
        for (size_t j = 0; j < r->n_axes && j < 16; j++)
            fputs("---|", f);
        fputs(any_pruned ? "---:|" : "", f);
        fputs(any_target ? "---:|---:|---:|---|---:|---|---:|---|---:|---|\n"
                         : "---:|---:|---:|---|---:|---|\n", f);
    }
    char b[8][64];
    for (size_t k = 0; k < pt->n_points; k++) {
        const bp_point *p = &pt->points[k];
        const row *x = &r->rows[p->trials[0]];
        if (md)
            fputs("| ", f);
        fprintf(f, "%-4zu", k + 1);
        for (size_t j = 0; j < r->n_axes && j < 16; j++)
            fprintf(f, "%s%-*s", sep, (int)w[j], x->params[j]);
        fprintf(f, "%s%4zu%s%6zu", sep, p->n, sep, p->n_failed);
        if (any_pruned)
            fprintf(f, "%s%7zu", sep, p->n_pruned);
        fprintf(f, "%s%-11s%s%-25s%s%-11s%s%-25s", sep,
                num(p->d.mean, b[0], 64, 0), sep, interval(p->d.ci_low, p->d.ci_high, b[1], 64),
                sep, num(p->d.median, b[2], 64, 0), sep,
                interval(p->d.med_low, p->d.med_high, b[3], 64));
        if (any_target) {
            size_t fin = p->n - p->n_pruned - p->n_unfinished;
            char rate[48] = "-";
            if (p->has_target && fin)
                snprintf(rate, sizeof rate, "%zu/%zu", p->reached, fin);
            char lo[64] = "-";
            if (p->has_target && fin)
                snprintf(lo, sizeof lo, "[%.0f%%, %.0f%%]", 100 * p->success_lo,
                         100 * p->success_hi);
            fprintf(f, "%s%-7s%s%-17s%s%-9s%s%-19s", sep, rate, sep, lo, sep,
                    num(p->km.median, b[4], 64, 0), sep,
                    interval(p->km.median_lo, p->km.median_hi, b[5], 64));
        }
        fputs(md ? " |\n" : "\n", f);
    }
}

static void cmp_text(FILE *f, const run *r, const bp_points *pt, int md, int all_pairs)
{
    if (!pt->n_cmp)
        return;
    const char *sep = md ? " | " : "  ";
    char mw[64];
    fprintf(f, "\n%s%s (a - b in %s; paired over the seeds both ran: Wilcoxon "
            "signed-rank; no shared seed: Mann-Whitney U; p Holm-adjusted over %zu comparison%s, "
            "alpha %g):\n\n", md ? "**Comparisons** " : "",
            all_pairs ? "every pair of points" : "the best point (a = 1) against each other",
            metric_words(pt->metric, mw, sizeof mw), pt->n_cmp, pt->n_cmp == 1 ? "" : "s",
            pt->alpha);
    if (md)
        fprintf(f, "| a | b | pairs | a better | a worse | ties | median a - b | 95%% CI | p | "
                "p (Holm) | verdict |\n|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|\n");
    else
        fprintf(f, "%4s%s%4s%s%6s%s%8s%s%7s%s%4s%s%-11s%s%-25s%s%-10s%s%-10s%s%s\n", "a", sep, "b",
                sep, "pairs", sep, "a better", sep, "a worse", sep, "ties", sep, "median a-b", sep,
                "95% CI", sep, "p", sep, "p (Holm)", sep, "verdict");
    char b[6][64];
    for (size_t i = 0; i < pt->n_cmp; i++) {
        const bp_comparison *c = &pt->cmp[i];
        char pairs[32];
        if (c->paired)
            snprintf(pairs, sizeof pairs, "%zu", c->n_pairs);
        else
            snprintf(pairs, sizeof pairs, "-");
        char wins[16] = "-", losses[16] = "-", ties[16] = "-";
        if (c->paired) {
            snprintf(wins, sizeof wins, "%zu", c->wins_a);
            snprintf(losses, sizeof losses, "%zu", c->losses_a);
            snprintf(ties, sizeof ties, "%zu", c->ties);
        }
        fprintf(f, "%s%4zu%s%4zu%s%6s%s%8s%s%7s%s%4s%s%-11s%s%-25s%s%-10s%s%-10s%s%s%s\n",
                md ? "| " : "", c->a + 1, sep, c->b + 1, sep, pairs, sep, wins, sep, losses, sep,
                ties, sep, num(c->diff, b[0], 64, 0), sep,
                interval(c->diff_lo, c->diff_hi, b[1], 64), sep, num(c->p, b[2], 64, 0), sep,
                num(c->p_holm, b[3], 64, 0), sep, c->verdict, md ? " |" : "");
    }
    /* the answer in words, for the best point */
    fputc('\n', f);
    for (size_t i = 0; i < pt->n_cmp && i < 8; i++) {
        const bp_comparison *c = &pt->cmp[i];
        if (c->a != 0)
            break;
        const row *xa = &r->rows[pt->points[c->a].trials[0]];
        const row *xb = &r->rows[pt->points[c->b].trials[0]];
        fputs(md ? "- " : "", f);
        words_params(f, r, xa);
        if (!strcmp(c->verdict, "not distinguishable")) {
            fputs(" and ", f);
            words_params(f, r, xb);
            if (c->paired && c->n_pairs < 6)
                fprintf(f, " are indistinguishable with %zu paired repeats (fewer than 6 cannot "
                        "reach p < 0.05): run more\n", c->n_pairs);
            else
                fprintf(f, " are not distinguishable at alpha %g (p = %.2g, Holm %.2g)\n",
                        pt->alpha, c->p, c->p_holm);
        } else if (c->paired) {
            fprintf(f, " %s ", !strcmp(c->verdict, "better") ? "beats" : "loses to");
            words_params(f, r, xb);
            fprintf(f, " on %zu of %zu seeds (p = %.2g, Holm %.2g)\n",
                    !strcmp(c->verdict, "better") ? c->wins_a : c->losses_a, c->n_pairs, c->p,
                    c->p_holm);
        } else {
            fprintf(f, " is %s than ", c->verdict);
            words_params(f, r, xb);
            fprintf(f, " (unpaired: no shared seed; p = %.2g, Holm %.2g)\n", c->p, c->p_holm);
        }
    }
}

/* --table epochs: one line per trial and epoch of every trial file of the index (the running
 * ones' .part files too): [run,]trial,epoch,status,running, then the union of the files'
 * columns in the order first seen; numbers with 17 digits, missing (NaN or no such column)
 * empty. */
static void epochs_csv(FILE *f, const run *r, size_t nd)
{
    char **names = NULL, buf[40];
    size_t nn = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass) {
            fputs(nd > 1 ? "run,trial,epoch,status,running" : "trial,epoch,status,running", f);
            for (size_t k = 0; k < nn; k++)
                if (strcmp(names[k], "epoch")) {
                    fputc(',', f);
                    csv_str(f, names[k]);
                }
            fputc('\n', f);
        }
        for (size_t i = 0; i < r->n; i++) {
            const row *x = &r->rows[i];
            char path[4096];
            struct stat st;
            int part = 0;
            snprintf(path, sizeof path, "%s/trials/%04u.h5", x->dir, x->trial);
            if (stat(path, &st) != 0) {
                snprintf(path, sizeof path, "%s/trials/%04u.h5.part", x->dir, x->trial);
                part = 1;
            }
            bp_epochs c;
            bp_epochs_read(path, &c);
            for (size_t k = 0; k < c.n && !pass; k++) {
                size_t j = 0;
                while (j < nn && strcmp(names[j], c.names[k]))
                    j++;
                char **nw = j == nn ? realloc(names, (nn + 1) * sizeof *names) : names;
                if (j == nn && nw) {
                    names = nw;
                    names[nn++] = strdup(c.names[k]);
                }
            }
            for (size_t e = 0; pass && e < c.rows; e++) {
                if (nd > 1) {
                    csv_str(f, x->dir);
                    fputc(',', f);
                }
                size_t ke = 0;
                while (ke < c.n && strcmp(c.names[ke], "epoch"))
                    ke++;
                fprintf(f, "%u,%s,", x->trial, ke < c.n ? num(c.v[ke][e], buf, sizeof buf, 2) : "");
                csv_str(f, part ? "running" : c.status ? c.status : "");
                fputs(part ? ",true" : ",false", f);
                for (size_t k = 0; k < nn; k++) {
                    if (!strcmp(names[k], "epoch"))
                        continue;
                    size_t j = 0;
                    while (j < c.n && strcmp(c.names[j], names[k]))
                        j++;
                    double v = j < c.n ? c.v[j][e] : NAN;
                    fputc(',', f);
                    if (isinf(v))
                        fputs(v > 0 ? "inf" : "-inf", f);
                    else
                        fputs(num(v, buf, sizeof buf, 2), f);
                }
                fputc('\n', f);
            }
            bp_epochs_free(&c);
        }
    }
    for (size_t k = 0; k < nn; k++)
        free(names[k]);
    free(names);
}


/* Several run folders as one: a first axis `run` (the folder as given), then the union of
 * their axes in order of appearance ("-" where a run has no such axis). Each run's rows keep
 * their verdicts and minima. */
static int combine(run *rs, size_t nd, const char *const *dirs, run *out, bp_err *e)
{
    memset(out, 0, sizeof *out);
    size_t total = 0, cap = 1;
    for (size_t i = 0; i < nd; i++) {
        total += rs[i].n;
        cap += rs[i].n_axes;
    }
    out->axes = calloc(cap, sizeof *out->axes);
    out->rows = calloc(total ? total : 1, sizeof *out->rows);
    if (!out->axes || !out->rows || !(out->axes[0] = strdup("run")))
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    out->n_axes = 1;
    for (size_t i = 0; i < nd; i++)
        for (size_t a = 0; a < rs[i].n_axes; a++) {
            size_t k = 1;
            while (k < out->n_axes && strcmp(out->axes[k], rs[i].axes[a]))
                k++;
            if (k == out->n_axes && !(out->axes[out->n_axes++] = strdup(rs[i].axes[a])))
                return bp_err_set(e, BP_ENOMEM, "out of memory");
        }
    for (size_t i = 0; i < nd; i++)
        for (size_t t = 0; t < rs[i].n; t++) {
            row *x = &out->rows[out->n];
            *x = rs[i].rows[t];
            x->params = calloc(out->n_axes, sizeof *x->params);
            out->n++;
            if (!x->params || !(x->params[0] = strdup(dirs[i])))
                return bp_err_set(e, BP_ENOMEM, "out of memory");
            for (size_t k = 1; k < out->n_axes; k++) {
                const char *v = "-";
                for (size_t a = 0; a < rs[i].n_axes; a++)
                    if (!strcmp(rs[i].axes[a], out->axes[k]) && rs[i].rows[t].params)
                        v = rs[i].rows[t].params[a];
                if (!(x->params[k] = strdup(v)))
                    return bp_err_set(e, BP_ENOMEM, "out of memory");
            }
        }
    return 0;
}

/* The best-so-far curve of a sweep.search run (report_search.h); -1 when r is not one. */
static int print_search(FILE *f, const run *r, bp_search_style style)
{
    bp_search_info in;
    if (!r->search || bp_search_info_parse(r->search, &in))
        return -1;
    int m = 1;
    while (m < BP_RANK_COUNT && strcmp(bp_rank_metric_names[m], in.metric))
        m++;
    bp_search_trial *t = malloc((r->n ? r->n : 1) * sizeof *t);
    if (m == BP_RANK_COUNT || !t) {
        free(t);
        return -1;
    }
    for (size_t i = 0; i < r->n; i++) {
        bp_point_trial p = as_trial(&r->rows[i]);
        t[i] = (bp_search_trial){ r->rows[i].trial, bp_point_value(&p, (bp_rank_metric)m),
                                  r->rows[i].epochs };
    }
    int rc = bp_report_search(f, &in, t, r->n, bp_rank_metric_higher((bp_rank_metric)m), style);
    free(t);
    return rc;
}

/* Load the run folders (with their verdicts and minima) into r: one as it is, several
 * combined. Returns the number of rows with a minimum, or a negative code. */
static int load_runs(const char *const *dirs, size_t nd, run *r, bp_err *e)
{
    run *rs = calloc(nd, sizeof *rs);
    int n_min = 0, rc = rs ? 0 : bp_err_set(e, BP_ENOMEM, "out of memory");
    for (size_t i = 0; i < nd && !rc; i++) {
        if ((rc = load(dirs[i], &rs[i], e)))
            break;
        for (size_t t = 0; t < rs[i].n; t++)
            rs[i].rows[t].dir = dirs[i];
        int m = find_minima(dirs[i], &rs[i], e);
        rc = m < 0 ? m : 0;
        n_min += m > 0 ? m : 0;
    }
    if (!rc && nd == 1) {
        *r = rs[0];
        memset(&rs[0], 0, sizeof rs[0]);
    } else if (!rc) {
        rc = combine(rs, nd, dirs, r, e);
    }
    for (size_t i = 0; rs && i < nd; i++)
        run_free(&rs[i]);
    free(rs);
    return rc ? rc : n_min;
}

int bp_report(const char *dir, const bp_report_opts *o, FILE *f, bp_err *e)
{
    return bp_report_runs(&dir, 1, o, f, e);
}

int bp_report_runs(const char *const *dirs, size_t nd, const bp_report_opts *o, FILE *f,
                   bp_err *e)
{
    if (o->format == BP_REPORT_HTML)
        return bp_err_set(e, BP_EUSAGE, "the html report is written by bp_report_html");
    run r = { 0 };
    const char *dir = dirs[0];
    int n_min = load_runs(dirs, nd, &r, e);
    if (n_min < 0) {
        run_free(&r);
        return n_min;
    }
    int any_verdict = 0;
    for (size_t i = 0; i < r.n; i++)
        any_verdict |= r.rows[i].verdict[0] != '\0';
    row *ranked = malloc((r.n ? r.n : 1) * sizeof *ranked);
    bp_point_trial *pin = malloc((r.n ? r.n : 1) * sizeof *pin);
    minimum *mins = malloc((r.n ? r.n : 1) * sizeof *mins);
    bp_points pt;
    memset(&pt, 0, sizeof pt);
    if (!ranked || !pin || !mins) {
        free(ranked);
        free(pin);
        free(mins);
        run_free(&r);
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < r.n; i++)
        pin[i] = as_trial(&r.rows[i]);
    bp_points_opts po = { .metric = o->metric, .by_median = o->by_median, .alpha = o->alpha,
                          .all_pairs = o->all_pairs };
    int rc = bp_points_build(pin, r.n, r.n_axes, &po, &pt, e);
    if (rc) {
        free(ranked);
        free(pin);
        free(mins);
        bp_points_free(&pt);
        run_free(&r);
        return rc;
    }
    /* sweep.pbt: the winner's lineage (report_pbt.h), of one run folder */
    bp_pbt_lineage lin;
    int is_pbt = nd == 1 ? bp_pbt_lineage_read(dir, &lin, e) : 0;
    if (is_pbt < 0) {
        free(ranked);
        free(pin);
        free(mins);
        bp_points_free(&pt);
        run_free(&r);
        return is_pbt;
    }
    if (o->format == BP_REPORT_CSV && o->table == BP_TABLE_LINEAGE && !is_pbt)
        fprintf(f, "generation,first_epoch,last_epoch,member\n");
    rank_metric = pt.metric;
    memcpy(ranked, r.rows, r.n * sizeof *ranked);
    qsort(ranked, r.n, sizeof *ranked, by_rank);
    size_t shown = o->top > 0 && (size_t)o->top < r.n ? (size_t)o->top : r.n;
    size_t done = 0, ok = 0;
    int any_target = 0, repeats = 0;
    for (size_t i = 0; i < r.n; i++) {
        done += rank_class(&r.rows[i]) < 3;
        ok += rank_class(&r.rows[i]) == 0;
        any_target |= r.rows[i].to_target != 0;
    }
    for (size_t k = 0; k < pt.n_points; k++)
        repeats |= pt.points[k].n > 1;
    char b[8][40], c[3][40], metric[96];
    metric_words(pt.metric, metric, sizeof metric);
    if (o->format == BP_REPORT_JSON) {
        fprintf(f, "{\"run\": ");
        json_str(f, dir);
        fputs(", \"runs\": [", f);
        for (size_t i = 0; i < nd; i++) {
            fputs(i ? ", " : "", f);
            json_str(f, dirs[i]);
        }
        fprintf(f, "], \"trials\": %zu, \"finished\": %zu, \"completed\": %zu, \"metric\": \"%s\", "
                "\"higher_is_better\": %s, \"by\": \"%s\", \"alpha\": %g, \"axes\": [", r.n, done,
                ok, bp_rank_metric_names[pt.metric],
                bp_rank_metric_higher(pt.metric) ? "true" : "false", by_name(&pt), pt.alpha);
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
            fputs(", \"params\": ", f);
            json_params(f, &r, x);
            fprintf(f, ", \"epochs\": %d, \"loss\": %s, \"accuracy\": %s, \"val_loss\": %s, "
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
        fputs(" ],\n \"points\": [\n", f);
        for (size_t k = 0; k < pt.n_points; k++)
            point_json(f, &r, &pt, k, mins, any_verdict);
        fputs(" ],\n \"comparisons\": [\n", f);
        for (size_t i = 0; i < pt.n_cmp; i++)
            cmp_json(f, &pt, i);
        fputs(" ],\n \"race\": ", f);
        if (r.race) {
            fputc('[', f);
            for (const char *l = r.race; *l;) {
                const char *end = strchr(l, '\n');
                size_t len = end ? (size_t)(end - l) : strlen(l);
                char *line = strndup(l, len);
                fputs(l == r.race ? "" : ", ", f);
                json_str(f, line ? line : "");
                free(line);
                l += len + (end ? 1 : 0);
            }
            fputc(']', f);
        } else {
            fputs("null", f);
        }
        fputs(",\n \"pbt\": ", f);
        if (is_pbt)
            bp_pbt_lineage_print(f, &lin, 3);
        else
            fputs("null", f);
        fputs(",\n \"search\": ", f);
        if (print_search(f, &r, BP_SEARCH_JSON))
            fputs("null", f);
        fprintf(f, "}\n");
    } else if (o->format == BP_REPORT_CSV && o->table == BP_TABLE_SEARCH) {
        if (print_search(f, &r, BP_SEARCH_CSV))
            rc = bp_err_set(e, BP_EUSAGE, "%s: --table search: not the run of a sweep.search",
                            nd == 1 ? dir : "several runs");
    } else if (o->format == BP_REPORT_CSV && o->table == BP_TABLE_POINTS) {
        points_csv(f, &r, &pt, any_target);
    } else if (o->format == BP_REPORT_CSV && o->table == BP_TABLE_COMPARISONS) {
        cmp_csv(f, &pt);
    } else if (o->format == BP_REPORT_CSV && o->table == BP_TABLE_LINEAGE) {
        if (is_pbt)
            bp_pbt_lineage_print(f, &lin, 2);
    } else if (o->format == BP_REPORT_CSV && o->table == BP_TABLE_EPOCHS) {
        epochs_csv(f, &r, nd);
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
                    num(x->loss, b[0], 40, 2), num(x->acc, b[1], 40, 2), num(x->val_loss, b[2], 40, 2),
                    num(x->val_acc, b[3], 40, 2), num(x->best_val, b[4], 40, 2),
                    num(x->test_acc, b[5], 40, 2), num(x->secs, b[6], 40, 2),
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
        fputs(md ? (nd > 1 ? "**Runs** " : "**Run** ") : (nd > 1 ? "runs " : "run "), f);
        for (size_t i = 0; i < nd; i++)
            fprintf(f, "%s%s", i ? ", " : "", dirs[i]);
        fprintf(f, ": %zu trial%s, %zu finished, %zu completed; ranked by %s (%s is better)\n\n",
                r.n, bp_s(r.n), done, ok, metric,
                bp_rank_metric_higher(pt.metric) ? "higher" : "lower");
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
            snprintf(path, sizeof path, "%s/trials/%04u.h5", x->dir, x->trial);
            hid_t tf = bp_epochs_open(path);
            char *msg = tf >= 0 ? bp_epochs_str_attr(tf, "message") : NULL;
            if (tf >= 0)
                H5Fclose(tf);
            if (msg && *msg) {
                bp_text_oneline(msg);   /* a message written by another program, too */
                fprintf(f, "%snote: trial %04u %s: %s\n", notes ? "" : "\n", x->trial, x->status, msg);
                notes++;
            }
            free(msg);
        }
        if (repeats) {
            points_text(f, &r, &pt, md, any_target);
            cmp_text(f, &r, &pt, md, o->all_pairs);
        }
        if (r.race) {
            fprintf(f, "\n%s\n%s", md ? "**Race** (sweep.race):\n\n```" : "race (sweep.race):",
                    r.race);
            if (md)
                fputs("```\n", f);
        }
        print_search(f, &r, md ? BP_SEARCH_MARKDOWN : BP_SEARCH_TEXT);
        print_verdicts(f, &r, md);
        if (n_min > 0)
            print_minima(f, &r, md, mins);
        if (is_pbt)
            bp_pbt_lineage_print(f, &lin, md);
        /* last, so that it can be copied to the end (PBT: the winner's replay config above) */
        if (!is_pbt && ok && (r.n_axes || r.n > 1) && pt.n_points && pt.points[0].n_value) {
            /* the best point's first repeat; without repeats, the best trial */
            const row *best = &r.rows[pt.points[0].trials[0]];
            const row *b0 = repeats ? best : &ranked[0];
            print_best(f, b0->dir, b0, &r, o->format, repeats ? pt.points[0].n : 1);
        }
    }
    if (is_pbt)
        bp_pbt_lineage_free(&lin);
    free(mins);
    free(ranked);
    free(pin);
    bp_points_free(&pt);
    run_free(&r);
    return rc;
}

int bp_report_best_trial(const char *dir, uint32_t *trial, bp_err *e)
{
    run r = { 0 };
    int rc = load_runs(&dir, 1, &r, e);
    if (rc < 0) {
        run_free(&r);
        return rc;
    }
    bp_point_trial *pin = malloc((r.n ? r.n : 1) * sizeof *pin);
    bp_points pt;
    memset(&pt, 0, sizeof pt);
    if (!pin) {
        run_free(&r);
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < r.n; i++)
        pin[i] = as_trial(&r.rows[i]);
    bp_points_opts po = { .metric = BP_RANK_AUTO };
    rc = bp_points_build(pin, r.n, r.n_axes, &po, &pt, e);
    if (!rc) {
        rank_metric = pt.metric;
        qsort(r.rows, r.n, sizeof *r.rows, by_rank);
        if (r.n == 0 || rank_class(&r.rows[0]) != 0)
            rc = bp_err_set(e, BP_EDATA, "%s: no completed trial to take the model from (name "
                            "a trial file, or RUN#ID)", dir);
        else
            *trial = r.rows[0].trial;
    }
    bp_points_free(&pt);
    free(pin);
    run_free(&r);
    return rc;
}
