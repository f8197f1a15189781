#include "autoconf.h"
#include "minima.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <hdf5.h>

#include "input.h"
#include "trialread.h"

#define EXACT_MAX 8

typedef struct search {
    const double *cost;
    size_t n;
    int used[EXACT_MAX], cur[EXACT_MAX], best[EXACT_MAX];
    double best_sum;
} search;

static void dfs(search *s, size_t j, double sum)
{
    if (sum >= s->best_sum)
        return;
    if (j == s->n) {
        s->best_sum = sum;
        memcpy(s->best, s->cur, s->n * sizeof *s->cur);
        return;
    }
    for (size_t k = 0; k < s->n; k++)
        if (!s->used[k]) {
            s->used[k] = 1;
            s->cur[j] = (int)k;
            dfs(s, j + 1, sum + s->cost[j * s->n + k]);
            s->used[k] = 0;
        }
}

/* perm[j] := the unit of b matched to unit j of a */
static void assign(const double *cost, size_t n, int *perm, int *used)
{
    if (n <= EXACT_MAX) {
        search s = { .cost = cost, .n = n, .best_sum = INFINITY };
        for (size_t j = 0; j < n; j++) /* start from the identity: ties keep it */
            s.best[j] = (int)j;
        dfs(&s, 0, 0.0);
        memcpy(perm, s.best, n * sizeof *perm);
        return;
    }
    int *rowdone = used + n;
    memset(used, 0, 2 * n * sizeof *used);
    for (size_t step = 0; step < n; step++) {
        size_t bj = 0, bk = 0;
        double bc = INFINITY;
        for (size_t j = 0; j < n; j++)
            for (size_t k = 0; k < n && !rowdone[j]; k++)
                if (!used[k] && (cost[j * n + k] < bc || bc == INFINITY)) {
                    bc = cost[j * n + k];
                    bj = j;
                    bk = k;
                }
        rowdone[bj] = used[bk] = 1;
        perm[bj] = (int)bk;
    }
}

double bp_minima_flip_constant(const char *name)
{
    if (!strcmp(name, "tanh") || !strcmp(name, "softsign") || !strcmp(name, "identity"))
        return 0.0;
    if (!strcmp(name, "sigmoid"))
        return 1.0;
    return NAN;
}

double bp_minima_distance(const int *sizes, size_t n_sizes, const float *a, const float *b,
                          int permute, const double *flip, float *pb, bp_err *e)
{
    size_t np = 0, wmax = 0;
    for (size_t l = 0; l + 1 < n_sizes; l++) {
        np += (size_t)sizes[l + 1] * ((size_t)sizes[l] + 1);
        wmax = (size_t)sizes[l + 1] > wmax ? (size_t)sizes[l + 1] : wmax;
    }
    float *p = pb ? pb : malloc(np * sizeof *p), *tmp = malloc(np * sizeof *tmp);
    double *cost = malloc(wmax * wmax * sizeof *cost);
    int *perm = malloc(3 * wmax * sizeof *perm);
    signed char *neg = malloc(wmax * wmax);
    if (!p || !tmp || !cost || !perm || !neg) {
        free(neg);
        if (!pb)
            free(p);
        free(tmp);
        free(cost);
        free(perm);
        return bp_err_set(e, BP_ENOMEM, "out of memory matching %zu parameters", np);
    }
    memcpy(p, b, np * sizeof *p);
    size_t off = 0; /* start of layer l */
    for (size_t l = 0; (permute || flip) && l + 2 < n_sizes; l++) {
        size_t nin = (size_t)sizes[l], n = (size_t)sizes[l + 1], nn = (size_t)sizes[l + 2];
        size_t boff = off + n * nin, noff = boff + n; /* b_l, W_{l+1} */
        size_t nboff = noff + nn * n;                 /* b_{l+1} */
        double fc = flip ? flip[l] : NAN;
        for (size_t j = 0; j < n; j++)
            for (size_t k = 0; k < n; k++) {
                double c[2] = { 0.0, 0.0 }, t;
                for (int sg = 0; sg < 2; sg++) {
                    double s = sg ? -1.0 : 1.0;
                    for (size_t i = 0; i < nin; i++) {
                        t = (double)a[off + j * nin + i] - s * p[off + k * nin + i];
                        c[sg] += t * t;
                    }
                    t = (double)a[boff + j] - s * p[boff + k];
                    c[sg] += t * t;
                    for (size_t r = 0; r < nn; r++) {
                        t = (double)a[noff + r * n + j] - s * p[noff + r * n + k];
                        c[sg] += t * t;
                    }
                }
                neg[j * n + k] = !isnan(fc) && c[1] < c[0];
                cost[j * n + k] = neg[j * n + k] ? c[1] : c[0];
                if (!permute && j != k)
                    cost[j * n + k] = INFINITY;
            }
        if (permute) {
            assign(cost, n, perm, perm + wmax);
        } else {
            for (size_t j = 0; j < n; j++)
                perm[j] = (int)j;
        }
        memcpy(tmp, p, np * sizeof *tmp);
        for (size_t j = 0; j < n; j++) {
            size_t k = (size_t)perm[j];
            float s = neg[j * n + k] ? -1.0f : 1.0f;
            for (size_t i = 0; i < nin; i++)
                p[off + j * nin + i] = s * tmp[off + k * nin + i];
            p[boff + j] = s * tmp[boff + k];
            for (size_t r = 0; r < nn; r++) {
                p[noff + r * n + j] = s * tmp[noff + r * n + k];
                if (s < 0)
                    p[nboff + r] += (float)(fc * tmp[noff + r * n + k]);
            }
        }
        off = noff;
    }
    double s = 0.0;
    for (size_t i = 0; i < np; i++) {
        double t = (double)a[i] - p[i];
        s += t * t;
    }
    if (!pb)
        free(p);
    free(tmp);
    free(cost);
    free(perm);
    free(neg);
    return sqrt(s);
}

static double norm(const float *w, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)w[i] * w[i];
    return sqrt(s);
}

typedef struct by_loss_ctx {
    const double *loss;
    size_t i;
} by_loss_ctx;

static int by_loss(const void *pa, const void *pb)
{
    const by_loss_ctx *x = pa, *y = pb;
    if (x->loss[x->i] != x->loss[y->i])
        return x->loss[x->i] < x->loss[y->i] ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

int bp_minima_group(const int *sizes, size_t n_sizes, const float *const *w,
                    const double *loss, size_t n, const bp_minima_opts *o, int *label, bp_err *e)
{
    size_t np = 0;
    for (size_t l = 0; l + 1 < n_sizes; l++)
        np += (size_t)sizes[l + 1] * ((size_t)sizes[l] + 1);
    by_loss_ctx *ord = malloc((n ? n : 1) * sizeof *ord);
    size_t *rep = malloc((n ? n : 1) * sizeof *rep);
    if (!ord || !rep) {
        free(ord);
        free(rep);
        return bp_err_set(e, BP_ENOMEM, "out of memory grouping %zu solutions", n);
    }
    for (size_t i = 0; i < n; i++)
        ord[i] = (by_loss_ctx){ loss, i };
    qsort(ord, n, sizeof *ord, by_loss);
    int ng = 0, rc = 0;
    for (size_t q = 0; q < n && rc >= 0; q++) {
        size_t i = ord[q].i;
        double ni = norm(w[i], np);
        int g = 0;
        for (; g < ng; g++) {
            size_t r = rep[g];
            if (fabs(loss[i] - loss[r]) > o->loss_tol)
                continue;
            double nr = norm(w[r], np), d;
            d = bp_minima_distance(sizes, n_sizes, w[r], w[i], o->permute, o->flip, NULL, e);
            if (d < 0) {
                rc = (int)d;
                break;
            }
            if (d <= o->dist_tol * (nr > ni ? nr : ni))
                break;
        }
        if (rc < 0)
            break;
        if (g == ng)
            rep[ng++] = i;
        label[i] = g;
    }
    free(ord);
    free(rep);
    return rc < 0 ? rc : ng;
}

static double attr_or_nan(hid_t f, const char *obj, const char *name)
{
    double v = NAN;
    if (H5Lexists(f, obj, H5P_DEFAULT) <= 0 || H5Aexists_by_name(f, obj, name, H5P_DEFAULT) <= 0)
        return NAN;
    hid_t a = H5Aopen_by_name(f, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0)
        v = NAN;
    if (a >= 0)
        H5Aclose(a);
    return v;
}

int bp_minima_of_run(const char *dir, const unsigned *ids, const size_t *point, size_t n,
                     int *minimum, double *loss, bp_err *e)
{
    size_t n1 = n ? n : 1;
    bp_saved_model **sm = calloc(n1, sizeof *sm);
    bp_minima_opts *mo = calloc(n1, sizeof *mo);
    int *flips = calloc(n1, sizeof *flips), *seen = calloc(n1, sizeof *seen);
    int *lab = calloc(n1, sizeof *lab);
    const float **w = calloc(n1, sizeof *w);
    double *gl = calloc(n1, sizeof *gl);
    size_t *who = calloc(n1, sizeof *who);
    double fc[64];
    int rc = 0, any = 0;
    if (!sm || !mo || !flips || !seen || !lab || !w || !gl || !who) {
        rc = bp_err_set(e, BP_ENOMEM, "out of memory grouping %zu trials", n);
        goto out;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        minimum[i] = -1;
        loss[i] = NAN;
        if ((size_t)snprintf(path, sizeof path, "%s/trials/%04u.h5", dir, ids[i]) >= sizeof path)
            continue;
        hid_t f = bp_input_check(path, BP_EIO, NULL, NULL) < 0
                      ? H5I_INVALID_HID : H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (f < 0)
            continue;
        loss[i] = attr_or_nan(f, "/diagnostics", "loss");
        mo[i].loss_tol = attr_or_nan(f, "/diagnostics", "minima_loss_tol");
        mo[i].dist_tol = attr_or_nan(f, "/diagnostics", "minima_dist_tol");
        mo[i].permute = attr_or_nan(f, "/diagnostics", "minima_permute") == 1.0;
        flips[i] = attr_or_nan(f, "/diagnostics", "minima_flip") == 1.0;
        H5Fclose(f);
        if (!isfinite(loss[i]) || !isfinite(mo[i].loss_tol) || !isfinite(mo[i].dist_tol))
            continue;
        bp_err e2;
        sm[i] = bp_saved_model_read(path, &e2);
    }
    for (size_t i = 0; i < n; i++) {
        if (seen[i] || !sm[i])
            continue;
        size_t m = 0;
        int fl = flips[i] && sm[i]->n_sizes <= 64 + 2;
        for (size_t k = i; k < n; k++)
            if (!seen[k] && sm[k] && point[k] == point[i] && sm[k]->n_sizes == sm[i]->n_sizes &&
                sm[k]->n_params == sm[i]->n_params &&
                !memcmp(sm[k]->sizes, sm[i]->sizes, sm[i]->n_sizes * sizeof(int))) {
                seen[k] = 1;
                who[m] = k;
                w[m] = sm[k]->params;
                gl[m++] = loss[k];
                fl &= flips[k];
            }
        for (size_t l = 0; fl && l + 2 < sm[i]->n_sizes; l++)
            fc[l] = bp_minima_flip_constant(sm[i]->act_names[l]);
        mo[i].flip = fl ? fc : NULL;
        int ng = bp_minima_group(sm[i]->sizes, sm[i]->n_sizes, w, gl, m, &mo[i], lab, e);
        if (ng < 0) {
            rc = ng;
            goto out;
        }
        for (size_t q = 0; q < m; q++)
            minimum[who[q]] = lab[q];
        any += (int)m;
    }
    rc = any;
out:
    for (size_t i = 0; sm && i < n; i++)
        bp_saved_model_free(sm[i]);
    free(sm);
    free(mo);
    free(flips);
    free(seen);
    free(lab);
    free(w);
    free(gl);
    free(who);
    return rc;
}
