#include "autoconf.h"
#include "report_html.h"

#include <dirent.h>
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "epochs.h"
#include "runfolder.h"
#include "stats.h"

#ifdef BP_HAVE_DYGRAPHS
#include "bp_report_assets.h"
#endif

/* At most this many per-epoch values in the page over all trials and columns: the epoch grid's
 * stride is chosen so that they fit (a trial's last epoch and the epochs where a sparse column,
 * such as lambda_max, has a value are kept too). */
#define HTML_VALUE_BUDGET 1500000.0

int bp_report_html_available(void)
{
#ifdef BP_HAVE_DYGRAPHS
    return 1;
#else
    return 0;
#endif
}

/* A JSON string, safe inside <script>: '<', '>' and '&' as \u escapes. */
static void js_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&')
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* A JSON number with 7 significant digits; NaN and infinities as null. */
static void js_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.7g", v);
    else
        fputs("null", f);
}

static void html_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else
            fputc(*s, f);
    }
}

/* One trial file of a run folder: the finished file, else the .part of one still running. */
typedef struct tfile {
    size_t run;
    unsigned id;
    int part;
} tfile;

static int by_run_id(const void *pa, const void *pb)
{
    const tfile *a = pa, *b = pb;
    if (a->run != b->run)
        return a->run < b->run ? -1 : 1;
    if (a->id != b->id)
        return a->id < b->id ? -1 : 1;
    return a->part - b->part;   /* the finished file first */
}

/* The trial files of the nd run folders, by run and id, a .part (with parts) only where no
 * finished file is. A run folder without trials/ has none. */
static int list_trials(const char *const *dirs, size_t nd, int parts, tfile **out, size_t *n,
                       bp_err *e)
{
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    for (size_t r = 0; r < nd; r++) {
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/trials", dirs[r]) >= sizeof path)
            return bp_err_set(e, BP_EUSAGE, "%s: path too long", dirs[r]);
        DIR *d = opendir(path);
        if (!d)
            continue;
        struct dirent *de;
        while ((de = readdir(d))) {
            unsigned id;
            int part;
            if (!bp_folder_trial_name(de->d_name, &id, &part) || (part && !parts))
                continue;
            if (*n == cap) {
                size_t nc = cap ? 2 * cap : 64;
                tfile *nv = realloc(*out, nc * sizeof *nv);
                if (!nv) {
                    closedir(d);
                    return bp_err_set(e, BP_ENOMEM, "out of memory");
                }
                *out = nv;
                cap = nc;
            }
            (*out)[(*n)++] = (tfile){ .run = r, .id = id, .part = part };
        }
        closedir(d);
    }
    if (*n)
        qsort(*out, *n, sizeof **out, by_run_id);
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (!k || (*out)[k - 1].run != (*out)[i].run || (*out)[k - 1].id != (*out)[i].id)
            (*out)[k++] = (*out)[i];
    *n = k;
    return 0;
}

static void tfile_path(char *buf, size_t n, const char *const *dirs, const tfile *t)
{
    snprintf(buf, n, "%s/trials/%04u.h5%s", dirs[t->run], t->id, t->part ? ".part" : "");
}

/* A column the page leaves out: the epoch number is the x axis, seconds a measurement. */
static int skip_column(const char *name)
{
    return !strcmp(name, "epoch") || !strcmp(name, "seconds");
}

typedef struct diag_attrs {
    FILE *f;
    int any;
} diag_attrs;

/* one /diagnostics attribute: scalar numbers only */
static herr_t diag_attr(hid_t g, const char *name, const H5A_info_t *info, void *op)
{
    diag_attrs *da = op;
    (void)info;
    hid_t a = H5Aopen(g, name, H5P_DEFAULT);
    if (a < 0)
        return 0;
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    H5T_class_t cl = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    double v;
    if ((cl == H5T_FLOAT || cl == H5T_INTEGER) && sp >= 0 &&
        H5Sget_simple_extent_npoints(sp) == 1 && H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0) {
        fputs(da->any ? ", " : ", \"d\": {", da->f);
        js_str(da->f, name);
        fputs(": ", da->f);
        js_num(da->f, v);
        da->any = 1;
    }
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    H5Aclose(a);
    return 0;
}

/* The scalar numeric attributes of /diagnostics (lambda_max, lambda_min, trace, loss, ...) as
 * JSON members, then the loss along the path ("path": {"alpha": [...], "loss": [...]}). */
static void diag_json(FILE *f, hid_t file)
{
    if (H5Lexists(file, "diagnostics", H5P_DEFAULT) <= 0)
        return;
    hid_t g = H5Gopen2(file, "diagnostics", H5P_DEFAULT);
    if (g < 0)
        return;
    diag_attrs da = { f, 0 };
    hsize_t idx = 0;
    H5Aiterate2(g, H5_INDEX_NAME, H5_ITER_INC, &idx, diag_attr, &da);
    int any = da.any;
    if (any)
        fputc('}', f);
    static const char *const pn[2] = { "path/alpha", "path/loss" };
    double *pv[2] = { NULL, NULL };
    hssize_t np[2] = { -1, -1 };
    for (int k = 0; k < 2; k++) {
        if (H5Lexists(g, "path", H5P_DEFAULT) <= 0 || H5Lexists(g, pn[k], H5P_DEFAULT) <= 0)
            break;
        hid_t d = H5Dopen2(g, pn[k], H5P_DEFAULT);
        hid_t sp = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
        np[k] = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
        if (np[k] > 0 && np[k] < 100000 && (pv[k] = malloc((size_t)np[k] * sizeof *pv[k])) &&
            H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, pv[k]) < 0) {
            free(pv[k]);
            pv[k] = NULL;
        }
        if (sp >= 0)
            H5Sclose(sp);
        if (d >= 0)
            H5Dclose(d);
    }
    if (pv[0] && pv[1] && np[0] == np[1]) {
        fputs(", \"path\": {\"alpha\": [", f);
        for (hssize_t i = 0; i < np[0]; i++) {
            fputs(i ? "," : "", f);
            js_num(f, pv[0][i]);
        }
        fputs("], \"loss\": [", f);
        for (hssize_t i = 0; i < np[1]; i++) {
            fputs(i ? "," : "", f);
            js_num(f, pv[1][i]);
        }
        fputs("]}", f);
    }
    free(pv[0]);
    free(pv[1]);
    H5Gclose(g);
}

/* The trials' curves: {"stride": S, "trials": [{"run", "id", "running", "status", "verdict",
 * "ep": [...], "c": {column: [...]}, "d": {...}, "path": {...}}]}. */
static void curves_json(FILE *f, const char *const *dirs, const tfile *tf, size_t nt)
{
    /* the stride: every trial's rows x columns, from a first look at the files */
    double total = 0;
    char path[4200];
    for (size_t i = 0; i < nt; i++) {
        tfile_path(path, sizeof path, dirs, &tf[i]);
        hid_t h = bp_trial_open(path), g = H5I_INVALID_HID;
        if (h >= 0 && H5Lexists(h, "epochs", H5P_DEFAULT) > 0 &&
            (g = H5Gopen2(h, "epochs", H5P_DEFAULT)) >= 0) {
            H5G_info_t gi;
            double rows = 0;
            if (H5Lexists(g, "loss", H5P_DEFAULT) > 0) {
                hid_t d = H5Dopen2(g, "loss", H5P_DEFAULT), sp = H5Dget_space(d);
                hssize_t np = H5Sget_simple_extent_npoints(sp);
                rows = np > 0 ? (double)np : 0;
                H5Sclose(sp);
                H5Dclose(d);
            }
            if (H5Gget_info(g, &gi) >= 0)
                total += rows * (double)gi.nlinks;
            H5Gclose(g);
        }
        if (h >= 0)
            H5Fclose(h);
    }
    size_t stride = total > HTML_VALUE_BUDGET ? (size_t)ceil(total / HTML_VALUE_BUDGET) : 1;
    fprintf(f, "{\"stride\": %zu, \"trials\": [\n", stride);
    int first = 1;
    for (size_t i = 0; i < nt; i++) {
        tfile_path(path, sizeof path, dirs, &tf[i]);
        bp_epochs c;
        bp_epochs_read(path, &c);
        hid_t h = bp_trial_open(path);
        char *verdict = h >= 0 ? bp_h5_str_attr(h, "verdict") : NULL;
        fprintf(f, "%s{\"run\": %zu, \"id\": %u, \"running\": %s, \"status\": ", first ? "" : ",\n",
                tf[i].run, tf[i].id, tf[i].part ? "true" : "false");
        first = 0;
        js_str(f, tf[i].part ? "running" : c.status ? c.status : "");
        fputs(", \"verdict\": ", f);
        if (verdict && *verdict)
            js_str(f, verdict);
        else
            fputs("null", f);
        free(verdict);
        /* rows kept: the grid, the last, and where a sparse column has a value */
        unsigned char *keep = calloc(c.rows ? c.rows : 1, 1);
        size_t ke = 0;
        while (ke < c.n && strcmp(c.names[ke], "epoch"))
            ke++;
        for (size_t r = 0; keep && r < c.rows; r++)
            keep[r] = r % stride == 0 || r + 1 == c.rows;
        for (size_t k = 0; keep && k < c.n && stride > 1; k++) {
            size_t fin = 0;
            for (size_t r = 0; r < c.rows; r++)
                fin += isfinite(c.v[k][r]) != 0;
            if (fin * 4 < c.rows)
                for (size_t r = 0; r < c.rows; r++)
                    keep[r] |= isfinite(c.v[k][r]) != 0;
        }
        fputs(", \"ep\": [", f);
        int sep = 0;
        for (size_t r = 0; keep && r < c.rows; r++)
            if (keep[r]) {
                fputs(sep ? "," : "", f);
                js_num(f, ke < c.n ? c.v[ke][r] : (double)(r + 1));
                sep = 1;
            }
        fputs("], \"c\": {", f);
        int cs = 0;
        for (size_t k = 0; keep && k < c.n; k++) {
            size_t fin = 0;
            for (size_t r = 0; r < c.rows; r++)
                fin += keep[r] && isfinite(c.v[k][r]);
            if (skip_column(c.names[k]) || !fin)   /* NaN throughout: no such column here */
                continue;
            fputs(cs ? ", " : "", f);
            js_str(f, c.names[k]);
            fputs(": [", f);
            sep = 0;
            for (size_t r = 0; r < c.rows; r++)
                if (keep[r]) {
                    fputs(sep ? "," : "", f);
                    js_num(f, c.v[k][r]);
                    sep = 1;
                }
            fputc(']', f);
            cs = 1;
        }
        fputc('}', f);
        if (h >= 0) {
            diag_json(f, h);
            H5Fclose(h);
        }
        fputc('}', f);
        free(keep);
        bp_epochs_free(&c);
    }
    fputs("]}", f);
}

/* A report of another format into a malloc'd string. */
static int report_string(const char *const *dirs, size_t nd, const bp_report_opts *o,
                         bp_report_format fmt, char **out, bp_err *e)
{
    size_t len = 0;
    *out = NULL;
    FILE *m = open_memstream(out, &len);
    if (!m)
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    bp_report_opts x = *o;
    x.format = fmt;
    x.table = BP_TABLE_TRIALS;
    int rc = bp_report_runs(dirs, nd, &x, m, e);
    if (fclose(m) != 0 && !rc)
        rc = bp_err_set(e, BP_ENOMEM, "out of memory");
    if (rc) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* The page; with parts, the .part files of running trials are read too (never inside the
 * process that writes them: HDF5 would share the writer's open file). */
static int html(const char *const *dirs, size_t nd, const bp_report_opts *o, int parts, FILE *f,
                bp_err *e)
{
#ifndef BP_HAVE_DYGRAPHS
    (void)dirs;
    (void)nd;
    (void)o;
    (void)parts;
    (void)f;
    return bp_err_set(e, BP_EUSAGE, "--format html: this bprun was built without dygraphs "
                      "(apt-get install libjs-dygraphs, then run configure and make again)");
#else
    char *json = NULL, *text = NULL;
    int rc = report_string(dirs, nd, o, BP_REPORT_JSON, &json, e);
    if (!rc)
        rc = report_string(dirs, nd, o, BP_REPORT_TEXT, &text, e);
    tfile *tf = NULL;
    size_t nt = 0;
    if (!rc)
        rc = list_trials(dirs, nd, parts, &tf, &nt, e);
    if (rc) {
        free(json);
        free(text);
        free(tf);
        return rc;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    fputs(BP_REPORT_HTML_MAGIC " ", f);
    html_text(f, dirs[0]);
    fputs(nd > 1 ? " and more" : "", f);
    fputs(" -->\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>bprun report: ",
          f);
    for (size_t i = 0; i < nd; i++) {
        fputs(i ? ", " : "", f);
        html_text(f, dirs[i]);
    }
    fputs("</title>\n<style>\n", f);
    fputs(bp_dygraphs_css, f);
    fputs("\n", f);
    fputs(bp_page_css, f);
    fputs("</style>\n</head><body>\n<div id=\"status\" data-state=\"loading\" data-errors=\"0\">"
          "loading (this page needs JavaScript)</div>\n<div id=\"app\"></div>\n"
          "<script>\nwindow.bpErrors = [];\nwindow.onerror = function (msg, src, line) {\n"
          "  window.bpErrors.push(String(msg) + ' (line ' + line + ')');\n"
          "  var s = document.getElementById('status');\n"
          "  if (s) { s.setAttribute('data-errors', String(window.bpErrors.length));\n"
          "           s.setAttribute('data-state', 'error');\n"
          "           s.textContent = 'error: ' + window.bpErrors.join('; '); }\n};\n</script>\n",
          f);
    /* the report: the json format's document, as it is ('<' made an escape: valid JSON) */
    fputs("<script id=\"bp-report\" type=\"application/json\">", f);
    for (const char *p = json; *p; p++) {
        if (*p == '<')
            fputs("\\u003c", f);
        else
            fputc(*p, f);
    }
    fputs("</script>\n<script id=\"bp-extra\" type=\"application/json\">{\"runs\": [", f);
    for (size_t i = 0; i < nd; i++) {
        fputs(i ? ", " : "", f);
        js_str(f, dirs[i]);
    }
    const char *best = strstr(text, "\nbest setting (");
    fputs("], \"best\": ", f);
    if (best)
        js_str(f, best + 1);
    else
        fputs("null", f);
    fputs(", \"text\": ", f);
    js_str(f, text);
    /* the t quantiles of the mean curves' 95% bands, tq[df - 1] */
    size_t ntq = nt < 2 ? 1 : nt - 1 > 1000 ? 1000 : nt - 1;
    fputs(",\n \"tq\": [", f);
    for (size_t df = 1; df <= ntq; df++) {
        fputs(df > 1 ? "," : "", f);
        fprintf(f, "%.9g", bp_stats_t_quantile(0.975, (double)df));
    }
    fputs("],\n \"curves\": ", f);
    curves_json(f, dirs, tf, nt);
    fputs("}</script>\n<script>\n", f);
    fputs(bp_dygraphs_js, f);
    fputs("\n</script>\n<script>\n", f);
    fputs(bp_page_js, f);
    fputs("</script>\n<details class=\"license\"><summary>dygraphs license</summary><pre>", f);
    html_text(f, bp_dygraphs_license);
    fputs("</pre></details>\n</body></html>\n", f);
    free(json);
    free(text);
    free(tf);
    return 0;
#endif
}

int bp_report_html(const char *const *dirs, size_t nd, const bp_report_opts *o, FILE *f,
                   bp_err *e)
{
    return html(dirs, nd, o, 1, f, e);
}

/* The report to f or to path (path.part, then renamed). */
static int output(const char *const *dirs, size_t nd, const bp_report_opts *o, int parts,
                  const char *path, FILE *f, bp_err *e)
{
    if (!path)
        return o->format == BP_REPORT_HTML ? html(dirs, nd, o, parts, f, e)
                                           : bp_report_runs(dirs, nd, o, f, e);
    if (o->format == BP_REPORT_HTML && !bp_report_html_available())
        return html(dirs, nd, o, parts, f, e);   /* the message, before creating anything */
    size_t len = strlen(path) + sizeof ".part";
    char *tmp = malloc(len);
    if (!tmp)
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    snprintf(tmp, len, "%s.part", path);
    FILE *out = fopen(tmp, "w");
    if (!out) {
        int rc = bp_err_set(e, BP_EIO, "%s: cannot write: %s", path, strerror(errno));
        free(tmp);
        return rc;
    }
    int rc = o->format == BP_REPORT_HTML ? html(dirs, nd, o, parts, out, e)
                                         : bp_report_runs(dirs, nd, o, out, e);
    int werr = ferror(out);
    if ((fclose(out) != 0 || werr) && !rc)
        rc = bp_err_set(e, BP_EIO, "%s: cannot write: %s", path, strerror(errno ? errno : EIO));
    if (!rc && rename(tmp, path) != 0)
        rc = bp_err_set(e, BP_EIO, "%s: cannot write: %s", path, strerror(errno));
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}

int bp_report_output(const char *const *dirs, size_t nd, const bp_report_opts *o,
                     const char *path, FILE *f, bp_err *e)
{
    return output(dirs, nd, o, 1, path, f, e);
}

int bp_report_html_refresh(const char *dir, bp_err *e)
{
    if (!bp_report_html_available())
        return 0;
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/" BP_RUN_REPORT_HTML, dir) >= sizeof path)
        return bp_err_set(e, BP_EUSAGE, "%s: path too long", dir);
    bp_report_opts o = { .format = BP_REPORT_HTML, .alpha = 0.05 };
    return output(&dir, 1, &o, 0, path, NULL, e);
}
