#include "autoconf.h"
#include "hvp.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

#include <bprun/vexp.h>
#ifdef BP_HAVE_CBLAS
#include <cblas.h>
#endif

struct bp_hvp {
    const bp_model *m;
    size_t cap, L;
    double **z, **a, **fp, **fpp, **rz, **ra, **dl, **rd; /* per layer: cap x sizes[l+1] */
    double *xb, *g, *rg, *wd;   /* cap x sizes[0]; cap x max width (twice); n_params */
    float *zf, *af, *tf;        /* cap x max width */
    double *vec;                /* n_params scratch for the float interface (3 x n_params) */
    double **gf2;               /* per layer: g_l f_l''(z_l) (hidden layers; cap x sizes[l+1]) */
    double *wt, *vt;            /* W_l^T and V_l^T per layer, at w_off (n_params each) */
    /* the forward cache: valid after a full-dataset call in one batch at the model's params */
    int valid;
    const bp_dataset *vd;
    float *pcopy;               /* the parameters it was computed at */
};

static void free_rows(double **p, size_t n)
{
    if (!p)
        return;
    for (size_t i = 0; i < n; i++)
        free(p[i]);
    free(p);
}

void bp_hvp_free(bp_hvp *h)
{
    if (!h)
        return;
    double **sets[] = { h->z, h->a, h->fp, h->fpp, h->rz, h->ra, h->dl, h->rd, h->gf2 };
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++)
        free_rows(sets[s], h->L);
    free(h->xb);
    free(h->g);
    free(h->rg);
    free(h->wd);
    free(h->zf);
    free(h->af);
    free(h->tf);
    free(h->vec);
    free(h->wt);
    free(h->vt);
    free(h->pcopy);
    free(h);
}

static int needs_second(const bp_model *m, size_t l)
{
    return m->act[l].fn && (l + 1 < m->n_layers || m->loss == BP_LOSS_MSE);
}

bp_hvp *bp_hvp_new(const bp_model *m, size_t cap, bp_err *e)
{
    for (size_t l = 0; l < m->n_layers; l++)
        if (needs_second(m, l) && !m->act[l].fn->second) {
            bp_err_set(e, BP_EPLUGIN, "activation %s (layer %zu) has no second derivative (plugin "
                       "slot `second`): Hessian-vector products need it", m->act[l].name, l);
            return NULL;
        }
    bp_hvp *h = bp_xcalloc(1, sizeof *h, e);
    if (!h)
        return NULL;
    h->m = m;
    h->cap = cap ? cap : 1;
    h->L = m->n_layers;
    size_t wmax = (size_t)bp_model_max_width(m);
    double ***sets[] = { &h->z, &h->a, &h->fp, &h->fpp, &h->rz, &h->ra, &h->dl, &h->rd, &h->gf2 };
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
        if (!(*sets[s] = bp_xcalloc(h->L, sizeof(double *), e)))
            goto fail;
        for (size_t l = 0; l < h->L; l++)
            if (!((*sets[s])[l] = bp_xcalloc(h->cap * (size_t)m->sizes[l + 1], sizeof(double), e)))
                goto fail;
    }
    h->xb = bp_xcalloc(h->cap * (size_t)m->sizes[0], sizeof(double), e);
    h->g = bp_xcalloc(h->cap * wmax, sizeof(double), e);
    h->rg = bp_xcalloc(h->cap * wmax, sizeof(double), e);
    h->wd = bp_xcalloc(m->n_params, sizeof(double), e);
    h->zf = bp_xcalloc(h->cap * wmax, sizeof(float), e);
    h->af = bp_xcalloc(h->cap * wmax, sizeof(float), e);
    h->tf = bp_xcalloc(h->cap * wmax, sizeof(float), e);
    h->vec = bp_xcalloc(3 * m->n_params, sizeof(double), e);
    h->wt = bp_xcalloc(m->n_params, sizeof(double), e);
    h->vt = bp_xcalloc(m->n_params, sizeof(double), e);
    h->pcopy = bp_xcalloc(m->n_params, sizeof(float), e);
    if (!h->xb || !h->g || !h->rg || !h->wd || !h->zf || !h->af || !h->tf || !h->vec || !h->wt ||
        !h->vt || !h->pcopy)
        goto fail;
    return h;
fail:
    bp_hvp_free(h);
    return NULL;
}

static double target(const bp_dataset *d, size_t src, size_t n, size_t j)
{
    if (d->kind == BP_TARGET_MATRIX)
        return d->Y[src * d->k + j];
    if (n == 1)
        return (double)d->y[src];
    return (size_t)d->y[src] == j ? 1.0 : 0.0;
}

static double softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* The products below are axpy loops over a contiguous row, in 4-lane double vectors (two SSE2
 * operations each in the portable build; AVX2 in the x86-64-v3 clone). Each output element is
 * one chain of adds in ascending order of the summed index, the same in every clone (no fused
 * multiply-add: -std=c11 keeps -ffp-contract=off), so results do not depend on the CPU. */

#pragma GCC diagnostic ignored "-Wpsabi"
typedef double v4d __attribute__((vector_size(32), aligned(8)));

static inline void axpy(size_t n, double c, const double *x, double *y)
{
    size_t n4 = n & ~(size_t)3, i = 0;
    v4d cv = { c, c, c, c };
    for (; i < n4; i += 4) {
        v4d xv, yv;
        memcpy(&xv, x + i, sizeof xv);
        memcpy(&yv, y + i, sizeof yv);
        yv += cv * xv;
        memcpy(y + i, &yv, sizeof yv);
    }
    for (; i < n; i++)
        y[i] += c * x[i];
}

/* Mt (n_in x n_out) := M^T for M (n_out x n_in) */
static void transpose(size_t n_out, size_t n_in, const double *M, double *Mt)
{
    for (size_t j = 0; j < n_out; j++)
        for (size_t i = 0; i < n_in; i++)
            Mt[i * n_out + j] = M[j * n_in + i];
}

/* cblas_dgemm (single-threaded, as the float products) for a layer the CBLAS path takes
 * (bp_kernels_blas_layer: a choice from the layer's sizes and BPRUN_KERNELS only, so the bits
 * never depend on the thread count); the loops below otherwise. */
static int use_dgemm(size_t nb, size_t n_out, size_t n_in)
{
#ifdef BP_HAVE_CBLAS
    return nb <= INT_MAX && n_out <= INT_MAX && n_in <= INT_MAX &&
           bp_kernels_blas_layer(n_out * n_in);
#else
    (void)nb;
    (void)n_out;
    (void)n_in;
    return 0;
#endif
}

/* y[r, j] (+)= sum_i x[r, i] Mt[i, j]  (Mt = M^T, n_in x n_out) */
BP_VCLONES static void mul_nt(size_t nb, size_t n_out, size_t n_in, const double *x,
                             const double *Mt, double *y, int add)
{
#ifdef BP_HAVE_CBLAS
    if (use_dgemm(nb, n_out, n_in)) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nb, (int)n_out, (int)n_in,
                    1.0, x, (int)n_in, Mt, (int)n_out, add ? 1.0 : 0.0, y, (int)n_out);
        return;
    }
#endif
    for (size_t r = 0; r < nb; r++) {
        double *yr = y + r * n_out;
        if (!add)
            memset(yr, 0, n_out * sizeof *yr);
        for (size_t i = 0; i < n_in; i++)
            axpy(n_out, x[r * n_in + i], Mt + i * n_out, yr);
    }
}

/* y[r, i] (+)= sum_j x[r, j] M[j, i] */
BP_VCLONES static void mul_nn(size_t nb, size_t n_out, size_t n_in, const double *x,
                             const double *M, double *y, int add)
{
#ifdef BP_HAVE_CBLAS
    if (use_dgemm(nb, n_out, n_in)) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nb, (int)n_in, (int)n_out,
                    1.0, x, (int)n_out, M, (int)n_in, add ? 1.0 : 0.0, y, (int)n_in);
        return;
    }
#endif
    for (size_t r = 0; r < nb; r++) {
        double *yr = y + r * n_in;
        if (!add)
            memset(yr, 0, n_in * sizeof *yr);
        for (size_t j = 0; j < n_out; j++)
            axpy(n_in, x[r * n_out + j], M + j * n_in, yr);
    }
}

/* G[j, i] += sum_r x[r, j] y[r, i]; gb[j] += sum_r x[r, j] (gb may be NULL) */
BP_VCLONES static void acc_tn(size_t nb, size_t n_out, size_t n_in, const double *x,
                             const double *y, double *G, double *gb)
{
#ifdef BP_HAVE_CBLAS
    if (use_dgemm(nb, n_out, n_in)) {
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n_out, (int)n_in, (int)nb, 1.0,
                    x, (int)n_out, y, (int)n_in, 1.0, G, (int)n_in);
        if (gb)
            for (size_t r = 0; r < nb; r++)
                for (size_t j = 0; j < n_out; j++)
                    gb[j] += x[r * n_out + j];
        return;
    }
#endif
    for (size_t r = 0; r < nb; r++)
        for (size_t j = 0; j < n_out; j++) {
            double c = x[r * n_out + j];
            if (gb)
                gb[j] += c;
            axpy(n_in, c, y + r * n_in, G + j * n_in);
        }
}

/* One batch. warm: the forward quantities (a, f', f'', the deltas and g f'') are those of the
 * previous call (the forward cache) and only the R-passes run (v set, grad and lsum unused). */
static void batch(bp_hvp *h, const double *w, const bp_dataset *d, const uint32_t *idx,
                  size_t first, size_t nb, const double *v, double *hv, double *grad,
                  double *lsum, int warm)
{
    const bp_model *m = h->m;
    size_t L = h->L - 1, nx = (size_t)m->sizes[0];
    if (!warm)
        for (size_t r = 0; r < nb; r++) {
            size_t src = idx ? idx[first + r] : first + r;
            for (size_t i = 0; i < nx; i++)
                h->xb[r * nx + i] = d->X[src * d->d + i];
        }
    for (size_t l = 0; l <= L; l++) {
        size_t n_in = (size_t)m->sizes[l], n_out = (size_t)m->sizes[l + 1], cnt = nb * n_out;
        const double *in = l ? h->a[l - 1] : h->xb, *b = w + m->b_off[l];
        const double *Wt = h->wt + m->w_off[l];
        double *z = h->z[l], *a = h->a[l];
        const bp_act *act = &m->act[l];
        if (!warm) {
            mul_nt(nb, n_out, n_in, in, Wt, z, 0);
            for (size_t r = 0; r < nb; r++)
                for (size_t j = 0; j < n_out; j++)
                    z[r * n_out + j] += b[j];
            if (act->fn) {
                for (size_t i = 0; i < cnt; i++)
                    h->zf[i] = (float)z[i];
                act->fn->forward(h->zf, h->af, cnt, act->hp);
                act->fn->derivative(h->zf, h->af, h->tf, cnt, act->hp);
                for (size_t i = 0; i < cnt; i++) {
                    a[i] = h->af[i];
                    h->fp[l][i] = h->tf[i];
                }
                if (v && needs_second(m, l)) {
                    act->fn->second(h->zf, h->af, h->tf, cnt, act->hp);
                    for (size_t i = 0; i < cnt; i++)
                        h->fpp[l][i] = h->tf[i];
                }
            } else {
                for (size_t r = 0; r < nb; r++) {
                    const double *zr = z + r * n_out;
                    double mx = zr[0], s = 0.0;
                    for (size_t j = 1; j < n_out; j++)
                        mx = zr[j] > mx ? zr[j] : mx;
                    for (size_t j = 0; j < n_out; j++)
                        s += (a[r * n_out + j] = exp(zr[j] - mx));
                    for (size_t j = 0; j < n_out; j++)
                        a[r * n_out + j] /= s;
                }
            }
        }
        if (v) {
            double *rz = h->rz[l];
            mul_nt(nb, n_out, n_in, in, h->vt + m->w_off[l], rz, 0);
            if (l)
                mul_nt(nb, n_out, n_in, h->ra[l - 1], Wt, rz, 1);
            for (size_t r = 0; r < nb; r++)
                for (size_t j = 0; j < n_out; j++)
                    rz[r * n_out + j] += v[m->b_off[l] + j];
            if (act->fn)
                for (size_t i = 0; i < cnt; i++)
                    h->ra[l][i] = h->fp[l][i] * rz[i];
        }
    }
    size_t n = (size_t)m->sizes[L + 1];
    for (size_t r = 0; r < nb; r++) {
        size_t src = idx ? idx[first + r] : first + r, o = r * n;
        const double *z = h->z[L] + o, *a = h->a[L] + o, *fp = h->fp[L] + o;
        const double *rz = v ? h->rz[L] + o : NULL;
        double *dl = h->dl[L] + o, *rd = h->rd[L] + o, loss = 0.0;
        if (m->loss == BP_LOSS_MSE) {
            for (size_t j = 0; j < n; j++) {
                double diff = a[j] - target(d, src, n, j);
                loss += 0.5 * diff * diff;
                dl[j] = diff * fp[j];
                if (v)
                    rd[j] = (fp[j] * fp[j] + diff * h->fpp[L][o + j]) * rz[j];
            }
        } else if (m->loss == BP_LOSS_CROSS_ENTROPY) {
            double tsum = 0.0, orz = 0.0;
            for (size_t j = 0; j < n; j++) {
                tsum += target(d, src, n, j);
                if (v)
                    orz += a[j] * rz[j];
            }
            if (!warm) {
                double mx = z[0], s = 0.0;
                for (size_t j = 1; j < n; j++)
                    mx = z[j] > mx ? z[j] : mx;
                for (size_t j = 0; j < n; j++)
                    s += exp(z[j] - mx);
                double lse = mx + log(s);
                for (size_t j = 0; j < n; j++) {
                    double t = target(d, src, n, j);
                    if (t != 0.0)
                        loss += t * (lse - z[j]);
                    dl[j] = a[j] * tsum - t;
                }
            }
            for (size_t j = 0; v && j < n; j++)
                rd[j] = tsum * a[j] * (rz[j] - orz);
        } else {
            for (size_t j = 0; j < n; j++) {
                double t = target(d, src, n, j);
                loss += softplus(z[j]) - t * z[j];
                dl[j] = a[j] - t;
                if (v)
                    rd[j] = fp[j] * rz[j];
            }
        }
        if (!warm)
            *lsum += loss;
    }
    for (size_t l = L + 1; l-- > 0;) {
        size_t n_in = (size_t)m->sizes[l], n_out = (size_t)m->sizes[l + 1];
        const double *in = l ? h->a[l - 1] : h->xb, *W = w + m->w_off[l];
        if (grad && !warm)
            acc_tn(nb, n_out, n_in, h->dl[l], in, grad + m->w_off[l], grad + m->b_off[l]);
        if (v) {
            acc_tn(nb, n_out, n_in, h->rd[l], in, hv + m->w_off[l], hv + m->b_off[l]);
            if (l)
                acc_tn(nb, n_out, n_in, h->dl[l], h->ra[l - 1], hv + m->w_off[l], NULL);
        }
        if (l == 0)
            break;
        size_t cnt = nb * n_in;
        const double *fp = h->fp[l - 1];
        if (!warm) {
            mul_nn(nb, n_out, n_in, h->dl[l], W, h->g, 0);
            for (size_t i = 0; i < cnt; i++)
                h->dl[l - 1][i] = h->g[i] * fp[i];
            if (v)
                for (size_t i = 0; i < cnt; i++)
                    h->gf2[l - 1][i] = h->g[i] * h->fpp[l - 1][i];
        }
        if (v) {
            mul_nn(nb, n_out, n_in, h->rd[l], W, h->rg, 0);
            mul_nn(nb, n_out, n_in, h->dl[l], v + m->w_off[l], h->rg, 1);
            for (size_t i = 0; i < cnt; i++)
                h->rd[l - 1][i] = h->rg[i] * fp[i] + h->gf2[l - 1][i] * h->rz[l - 1][i];
        }
    }
}

int bp_hvp_eval(bp_hvp *h, const double *w, const bp_dataset *d, const uint32_t *idx, size_t n,
                const double *v, double *hv, double *grad, double *loss, bp_err *e)
{
    const bp_model *m = h->m;
    size_t np = m->n_params;
    if (n == 0 || n > d->n)
        return bp_err_set(e, BP_ERUN, "hvp: %zu rows requested of a dataset of %zu", n, d->n);
    /* warm: Hv alone, over all rows in one batch, at the parameters and data of the previous
     * full call (the forward pass and the deltas are reused) */
    int whole = !w && !idx && n == d->n && n <= h->cap;
    int warm = whole && v && !grad && !loss && h->valid && h->vd == d &&
               !memcmp(h->pcopy, m->params, np * sizeof *m->params);
    if (!warm) {
        h->valid = 0;
        if (!w) {
            for (size_t i = 0; i < np; i++)
                h->wd[i] = m->params[i];
            w = h->wd;
        }
        for (size_t l = 0; l < h->L; l++)
            transpose((size_t)m->sizes[l + 1], (size_t)m->sizes[l], w + m->w_off[l],
                      h->wt + m->w_off[l]);
    } else {
        w = h->wd;
    }
    if (v)
        for (size_t l = 0; l < h->L; l++)
            transpose((size_t)m->sizes[l + 1], (size_t)m->sizes[l], v + m->w_off[l],
                      h->vt + m->w_off[l]);
    if (v)
        memset(hv, 0, np * sizeof *hv);
    if (grad)
        memset(grad, 0, np * sizeof *grad);
    double lsum = 0.0;
    for (size_t first = 0; first < n; first += h->cap) {
        size_t nb = n - first < h->cap ? n - first : h->cap;
        batch(h, w, d, idx, first, nb, v, hv, grad, &lsum, warm);
    }
    if (whole && v && !warm) { /* the buffers now hold this call's forward pass */
        h->valid = 1;
        h->vd = d;
        memcpy(h->pcopy, m->params, np * sizeof *m->params);
    }
    double inv = 1.0 / (double)n;
    int bad = !isfinite(lsum);
    for (size_t i = 0; i < np; i++) {
        if (v) {
            hv[i] *= inv;
            bad |= !isfinite(hv[i]);
        }
        if (grad)
            grad[i] *= inv;
    }
    if (loss)
        *loss = lsum * inv;
    if (bad)
        return bp_err_set(e, BP_ERUN, "hvp: %s is not finite", isfinite(lsum) ? "the Hessian-vector "
                          "product" : "the loss");
    return BP_OK;
}

const bp_model *bp_hvp_model(const bp_hvp *h)
{
    return h->m;
}

int bp_hvp_eval_f(bp_hvp *h, const bp_dataset *d, const float *v, float *hv, bp_err *e)
{
    size_t np = h->m->n_params;
    double *vd = h->vec, *hd = h->vec + np;
    for (size_t i = 0; i < np; i++)
        vd[i] = v[i];
    int rc = bp_hvp_eval(h, NULL, d, NULL, d->n, vd, hd, NULL, NULL, e);
    for (size_t i = 0; i < np; i++)
        hv[i] = (float)hd[i];
    return rc;
}
