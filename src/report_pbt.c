#include "autoconf.h"
#include "report_pbt.h"

#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "epochs.h"

typedef struct member {
    size_t n;                /* epochs recorded */
    double *parent;
    double **params;         /* [n_params][n] */
    double *metric;          /* [n] */
    char *status, *config;
} member;

static double *read_doubles(hid_t f, const char *name, size_t *n)
{
    hid_t d = H5Lexists(f, name, H5P_DEFAULT) > 0 ? H5Dopen2(f, name, H5P_DEFAULT) : -1;
    if (d < 0)
        return NULL;
    hid_t s = H5Dget_space(d);
    hssize_t k = s >= 0 ? H5Sget_simple_extent_npoints(s) : -1;
    double *v = k >= 0 ? malloc(((size_t)k ? (size_t)k : 1) * sizeof *v) : NULL;
    if (v && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
        free(v);
        v = NULL;
    }
    if (s >= 0)
        H5Sclose(s);
    H5Dclose(d);
    *n = v ? (size_t)k : 0;
    return v;
}

static double attr_double(hid_t loc, const char *name)
{
    double v = NAN;
    hid_t a = H5Aexists(loc, name) > 0 ? H5Aopen(loc, name, H5P_DEFAULT) : -1;
    if (a >= 0) {
        if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0)
            v = NAN;
        H5Aclose(a);
    }
    return v;
}

typedef struct names {
    size_t n;
    char **v;
} names;

static herr_t add_name(hid_t g, const char *name, const H5L_info_t *info, void *ud)
{
    (void)g;
    (void)info;
    names *k = ud;
    char **more = realloc(k->v, (k->n + 1) * sizeof *more);
    if (!more)
        return -1;
    k->v = more;
    if (!(k->v[k->n] = strdup(name)))
        return -1;
    k->n++;
    return 0;
}

static void member_free(member *m, size_t np)
{
    free(m->parent);
    for (size_t k = 0; m->params && k < np; k++)
        free(m->params[k]);
    free(m->params);
    free(m->metric);
    free(m->status);
    free(m->config);
}

/* Member i's records; 0, or -1 when its /pbt does not read (its file may be missing: n 0). */
static int member_read(const char *dir, unsigned i, const bp_pbt_lineage *l, member *m)
{
    char path[4200];
    memset(m, 0, sizeof *m);
    snprintf(path, sizeof path, "%s/trials/%04u.h5", dir, i);
    bp_epochs ep;
    bp_epochs_read(path, &ep);
    for (size_t c = 0; c < ep.n && !m->metric; c++)
        if (!strcmp(ep.names[c], l->val ? "val_loss" : "loss") &&
            (m->metric = malloc((ep.rows ? ep.rows : 1) * sizeof *m->metric)))
            memcpy(m->metric, ep.v[c], ep.rows * sizeof *m->metric);
    size_t rows = ep.rows;
    m->status = ep.status ? strdup(ep.status) : NULL;
    bp_epochs_free(&ep);
    hid_t f = bp_epochs_open(path);
    if (f < 0)
        return 0;
    m->config = bp_epochs_str_attr(f, "resolved_config");
    size_t n = 0, k;
    m->parent = read_doubles(f, "/pbt/parent", &n);
    int rc = m->parent && m->metric && (m->params = calloc(l->n_params + 1, sizeof *m->params))
           ? 0 : -1;
    for (size_t q = 0; rc == 0 && q < l->n_params; q++) {
        snprintf(path, sizeof path, "/pbt/params/%s", l->keys[q]);
        if (!(m->params[q] = read_doubles(f, path, &k)) || k != n)
            rc = -1;
    }
    H5Fclose(f);
    m->n = rc ? 0 : n < rows ? n : rows;
    return rc;
}

int bp_pbt_lineage_read(const char *dir, bp_pbt_lineage *out, bp_err *e)
{
    char path[4200];
    memset(out, 0, sizeof *out);
    snprintf(path, sizeof path, "%s/trials/0000.h5", dir);
    hid_t f = bp_epochs_open(path);
    if (f < 0)
        return 0;
    int is_pbt = H5Lexists(f, "/pbt", H5P_DEFAULT) > 0;
    hid_t g = is_pbt ? H5Gopen2(f, "/pbt", H5P_DEFAULT) : -1;
    double pop = g >= 0 ? attr_double(g, "population") : NAN;
    out->interval = g >= 0 ? (int)attr_double(g, "interval") : 0;
    out->val = g >= 0 && attr_double(g, "metric_val_loss") == 1;
    names k = { 0, NULL };
    hid_t pg = g >= 0 && H5Lexists(g, "params", H5P_DEFAULT) > 0
             ? H5Gopen2(g, "params", H5P_DEFAULT) : -1;
    int it = pg >= 0 ? H5Literate(pg, H5_INDEX_NAME, H5_ITER_INC, NULL, add_name, &k) : -1;
    if (pg >= 0)
        H5Gclose(pg);
    if (g >= 0)
        H5Gclose(g);
    H5Fclose(f);
    out->keys = k.v;
    out->n_params = k.n;
    if (!is_pbt)
        return 0;
    if (it < 0 || !(pop >= 2 && pop <= 10000) || out->interval < 1) {
        bp_pbt_lineage_free(out);
        return bp_err_set(e, BP_EDATA, "%s: /pbt does not read as a PBT member's record", path);
    }
    unsigned P = out->population = (unsigned)pop;
    member *ms = calloc(P, sizeof *ms);
    if (!ms) {
        bp_pbt_lineage_free(out);
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    }
    int rc = 0;
    long win = -1;
    for (unsigned i = 0; i < P; i++) {
        if (member_read(dir, i, out, &ms[i]) < 0 && ms[i].status) {
            snprintf(path, sizeof path, "%s/trials/%04u.h5", dir, i);
            rc = bp_err_set(e, BP_EDATA, "%s: /pbt does not read as a PBT member's record", path);
            break;
        }
        if (!ms[i].status || strcmp(ms[i].status, "completed") || !ms[i].n)
            continue;
        double v = ms[i].metric[ms[i].n - 1];
        if (isnan(v))
            continue;
        if (win < 0 || v < ms[win].metric[ms[win].n - 1])
            win = i;
    }
    if (rc || win < 0)
        goto done;
    out->winner = (unsigned)win;
    /* walk back: generations from the last */
    int E = (int)ms[win].n, K = out->interval, G = (E + K - 1) / K;
    if (!(out->steps = calloc((size_t)G, sizeof *out->steps))) {
        rc = bp_err_set(e, BP_ENOMEM, "out of memory");
        goto done;
    }
    out->n_steps = (size_t)G;
    size_t cur = (size_t)win;
    for (int gen = G; gen >= 1; gen--) {
        bp_pbt_step *s = &out->steps[gen - 1];
        s->generation = gen;
        s->first = (gen - 1) * K + 1;
        s->last = gen * K < E ? gen * K : E;
        s->member = (unsigned)cur;
        const member *m = &ms[cur];
        if (m->n < (size_t)s->last || !(s->params = calloc(out->n_params + 1, sizeof *s->params))) {
            rc = m->n < (size_t)s->last
               ? bp_err_set(e, BP_EDATA, "%s/trials/%04zu.h5: /pbt has %zu epochs, the lineage "
                            "needs %d", dir, cur, m->n, s->last)
               : bp_err_set(e, BP_ENOMEM, "out of memory");
            goto done;
        }
        for (size_t q = 0; q < out->n_params; q++)
            s->params[q] = m->params[q][s->first - 1];
        s->metric = m->metric[s->last - 1];
        double p = m->parent[s->first - 1];
        if (!(p >= 0 && p < P)) {
            rc = bp_err_set(e, BP_EDATA, "%s/trials/%04zu.h5: /pbt/parent[%d] is not a member",
                            dir, cur, s->first - 1);
            goto done;
        }
        cur = (size_t)p;
    }
    /* the replay config: the first member's config with the later generations as phases */
    const char *cfg = ms[out->steps[0].member].config;
    const char *cut = cfg ? strstr(cfg, "\noutput:") : NULL;
    if (cut) {
        char *buf = NULL;
        size_t len = 0;
        FILE *mf = open_memstream(&buf, &len);
        if (!mf) {
            rc = bp_err_set(e, BP_ENOMEM, "out of memory");
            goto done;
        }
        fwrite(cfg, 1, (size_t)(cut - cfg), mf);
        /* a phase where the values change (equal neighbours train with the same bits in one
         * stretch or two) */
        int any = 0;
        for (size_t g2 = 1; g2 < out->n_steps; g2++) {
            const bp_pbt_step *s = &out->steps[g2];
            if (!memcmp(s->params, out->steps[g2 - 1].params, out->n_params * sizeof *s->params))
                continue;
            fprintf(mf, "%s{from: %d, optimizer: {", any++ ? ", " : "\n  phases: [", s->first);
            for (size_t q = 0; q < out->n_params; q++) {
                const char *name = strrchr(out->keys[q], '.');
                fprintf(mf, "%s%s: %.17g", q ? ", " : "", name ? name + 1 : out->keys[q],
                        s->params[q]);
            }
            fputs("}}", mf);
        }
        if (any)
            fputc(']', mf);
        fputs(cut, mf);
        if (fclose(mf) != 0) {
            free(buf);
            rc = bp_err_set(e, BP_ENOMEM, "out of memory");
            goto done;
        }
        out->replay = buf;
    }
done:
    for (unsigned i = 0; i < P; i++)
        member_free(&ms[i], out->n_params);
    free(ms);
    if (rc || win < 0) {
        bp_pbt_lineage_free(out);
        return rc;
    }
    return 1;
}

void bp_pbt_lineage_free(bp_pbt_lineage *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n_params; i++)
        free(l->keys[i]);
    free(l->keys);
    for (size_t i = 0; i < l->n_steps; i++)
        free(l->steps[i].params);
    free(l->steps);
    free(l->replay);
    memset(l, 0, sizeof *l);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void num(FILE *f, double v, int json)
{
    if (isfinite(v))
        fprintf(f, "%.17g", v);
    else
        fputs(json ? "null" : "", f);
}

void bp_pbt_lineage_print(FILE *f, const bp_pbt_lineage *l, int fmt)
{
    const char *metric = l->val ? "val_loss" : "loss";
    if (fmt == 2) {
        fputs("generation,first_epoch,last_epoch,member", f);
        for (size_t q = 0; q < l->n_params; q++)
            fprintf(f, ",%s", l->keys[q]);
        fprintf(f, ",%s\n", metric);
        for (size_t i = 0; i < l->n_steps; i++) {
            const bp_pbt_step *s = &l->steps[i];
            fprintf(f, "%d,%d,%d,%u", s->generation, s->first, s->last, s->member);
            for (size_t q = 0; q < l->n_params; q++) {
                fputc(',', f);
                num(f, s->params[q], 0);
            }
            fputc(',', f);
            num(f, s->metric, 0);
            fputc('\n', f);
        }
        return;
    }
    if (fmt == 3) {
        fprintf(f, "{\"winner\": %u, \"population\": %u, \"interval\": %d, \"metric\": \"%s\", "
                "\"params\": [", l->winner, l->population, l->interval, metric);
        for (size_t q = 0; q < l->n_params; q++) {
            fputs(q ? ", " : "", f);
            json_str(f, l->keys[q]);
        }
        fputs("], \"lineage\": [", f);
        for (size_t i = 0; i < l->n_steps; i++) {
            const bp_pbt_step *s = &l->steps[i];
            fprintf(f, "%s\n  {\"generation\": %d, \"first_epoch\": %d, \"last_epoch\": %d, "
                    "\"member\": %u, \"params\": {", i ? "," : "", s->generation, s->first,
                    s->last, s->member);
            for (size_t q = 0; q < l->n_params; q++) {
                fputs(q ? ", " : "", f);
                json_str(f, l->keys[q]);
                fputs(": ", f);
                num(f, s->params[q], 1);
            }
            fprintf(f, "}, \"%s\": ", metric);
            num(f, s->metric, 1);
            fputc('}', f);
        }
        fputs("],\n \"replay_config\": ", f);
        if (l->replay)
            json_str(f, l->replay);
        else
            fputs("null", f);
        fputc('}', f);
        return;
    }
    int md = fmt == 1;
    fprintf(f, "\n%s (sweep.pbt, %u members, %d epochs a generation): the winner is member "
            "%04u; its lineage:\n\n", md ? "**Population-based training**" :
            "population-based training", l->population, l->interval, l->winner);
    if (md) {
        fputs("| generation | epochs | member |", f);
        for (size_t q = 0; q < l->n_params; q++)
            fprintf(f, " %s |", l->keys[q]);
        fprintf(f, " %s |\n|---|---|---|", metric);
        for (size_t q = 0; q <= l->n_params; q++)
            fputs("---|", f);
        fputc('\n', f);
    } else {
        fprintf(f, "%-11s %-13s %-7s", "generation", "epochs", "member");
        for (size_t q = 0; q < l->n_params; q++)
            fprintf(f, " %-24s", l->keys[q]);
        fprintf(f, " %s\n", metric);
    }
    for (size_t i = 0; i < l->n_steps; i++) {
        const bp_pbt_step *s = &l->steps[i];
        char ep[32];
        snprintf(ep, sizeof ep, "%d-%d", s->first, s->last);
        if (md) {
            fprintf(f, "| %d | %s | %04u |", s->generation, ep, s->member);
            for (size_t q = 0; q < l->n_params; q++)
                fprintf(f, " %.6g |", s->params[q]);
            fprintf(f, " %.6g |\n", s->metric);
        } else {
            fprintf(f, "%-11d %-13s %04u   ", s->generation, ep, s->member);
            for (size_t q = 0; q < l->n_params; q++)
                fprintf(f, " %-24.6g", s->params[q]);
            fprintf(f, " %.6g\n", s->metric);
        }
    }
    if (l->replay)
        fprintf(f, "\n%s\n%s%s%s", md ? "The winner's schedule as a plain config (it replays the "
                "winner's weights bit for bit):\n\n```yaml" : "the winner's schedule as a plain "
                "config (it replays the winner's weights bit for bit):", l->replay,
                md ? "```\n" : "", "");
}
