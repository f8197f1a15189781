#include "autoconf.h"
#include "hvp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct bp_hvp {
    const bp_model *m;
    size_t cap, L;
    double **z, **a, **fp, **fpp, **rz, **ra, **dl, **rd; /* per layer: cap x sizes[l+1] */
    double *xb, *g, *rg, *wd;   /* cap x sizes[0]; cap x max width (twice); n_params */
    float *zf, *af, *tf;        /* cap x max width */
    double *vec;                /* n_params scratch for the float interface (3 x n_params) */
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
    double **sets[] = { h->z, h->a, h->fp, h->fpp, h->rz, h->ra, h->dl, h->rd };
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
    double ***sets[] = { &h->z, &h->a, &h->fp, &h->fpp, &h->rz, &h->ra, &h->dl, &h->rd };
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
    if (!h->xb || !h->g || !h->rg || !h->wd || !h->zf || !h->af || !h->tf || !h->vec)
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

/* y[r, j] (+)= sum_i x[r, i] M[j, i] (M is n_out x n_in, row-major) */
static void mul_nt(size_t nb, size_t n_out, size_t n_in, const double *x, const double *M,
                   double *y, int add)
{
    for (size_t r = 0; r < nb; r++)
        for (size_t j = 0; j < n_out; j++) {
            const double *xr = x + r * n_in, *mj = M + j * n_in;
            double s = 0.0;
            for (size_t i = 0; i < n_in; i++)
                s += xr[i] * mj[i];
            y[r * n_out + j] = add ? y[r * n_out + j] + s : s;
        }
}

/* y[r, i] (+)= sum_j x[r, j] M[j, i] */
static void mul_nn(size_t nb, size_t n_out, size_t n_in, const double *x, const double *M,
                   double *y, int add)
{
    for (size_t r = 0; r < nb; r++) {
        double *yr = y + r * n_in;
        if (!add)
            memset(yr, 0, n_in * sizeof *yr);
        for (size_t j = 0; j < n_out; j++) {
            double c = x[r * n_out + j];
            const double *mj = M + j * n_in;
            for (size_t i = 0; i < n_in; i++)
                yr[i] += c * mj[i];
        }
    }
}

/* G[j, i] += sum_r x[r, j] y[r, i]; gb[j] += sum_r x[r, j] (gb may be NULL) */
static void acc_tn(size_t nb, size_t n_out, size_t n_in, const double *x, const double *y,
                   double *G, double *gb)
{
    for (size_t r = 0; r < nb; r++)
        for (size_t j = 0; j < n_out; j++) {
            double c = x[r * n_out + j];
            if (gb)
                gb[j] += c;
            double *gj = G + j * n_in;
            const double *yr = y + r * n_in;
            for (size_t i = 0; i < n_in; i++)
                gj[i] += c * yr[i];
        }
}

static void batch(bp_hvp *h, const double *w, const bp_dataset *d, const uint32_t *idx,
                  size_t first, size_t nb, const double *v, double *hv, double *grad,
                  double *lsum)
{
    const bp_model *m = h->m;
    size_t L = h->L - 1, nx = (size_t)m->sizes[0];
    for (size_t r = 0; r < nb; r++) {
        size_t src = idx ? idx[first + r] : first + r;
        for (size_t i = 0; i < nx; i++)
            h->xb[r * nx + i] = d->X[src * d->d + i];
    }
    for (size_t l = 0; l <= L; l++) {
        size_t n_in = (size_t)m->sizes[l], n_out = (size_t)m->sizes[l + 1], cnt = nb * n_out;
        const double *in = l ? h->a[l - 1] : h->xb, *W = w + m->w_off[l], *b = w + m->b_off[l];
        double *z = h->z[l], *a = h->a[l];
        mul_nt(nb, n_out, n_in, in, W, z, 0);
        for (size_t r = 0; r < nb; r++)
            for (size_t j = 0; j < n_out; j++)
                z[r * n_out + j] += b[j];
        const bp_act *act = &m->act[l];
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
        if (v) {
            double *rz = h->rz[l];
            mul_nt(nb, n_out, n_in, in, v + m->w_off[l], rz, 0);
            if (l)
                mul_nt(nb, n_out, n_in, h->ra[l - 1], W, rz, 1);
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
            double mx = z[0], s = 0.0, tsum = 0.0, orz = 0.0;
            for (size_t j = 1; j < n; j++)
                mx = z[j] > mx ? z[j] : mx;
            for (size_t j = 0; j < n; j++)
                s += exp(z[j] - mx);
            double lse = mx + log(s);
            for (size_t j = 0; j < n; j++) {
                double t = target(d, src, n, j);
                tsum += t;
                if (t != 0.0)
                    loss += t * (lse - z[j]);
                if (v)
                    orz += a[j] * rz[j];
            }
            for (size_t j = 0; j < n; j++) {
                dl[j] = a[j] * tsum - target(d, src, n, j);
                if (v)
                    rd[j] = tsum * a[j] * (rz[j] - orz);
            }
        } else {
            for (size_t j = 0; j < n; j++) {
                double t = target(d, src, n, j);
                loss += softplus(z[j]) - t * z[j];
                dl[j] = a[j] - t;
                if (v)
                    rd[j] = fp[j] * rz[j];
            }
        }
        *lsum += loss;
    }
    for (size_t l = L + 1; l-- > 0;) {
        size_t n_in = (size_t)m->sizes[l], n_out = (size_t)m->sizes[l + 1];
        const double *in = l ? h->a[l - 1] : h->xb, *W = w + m->w_off[l];
        if (grad)
            acc_tn(nb, n_out, n_in, h->dl[l], in, grad + m->w_off[l], grad + m->b_off[l]);
        if (v) {
            acc_tn(nb, n_out, n_in, h->rd[l], in, hv + m->w_off[l], hv + m->b_off[l]);
            if (l)
                acc_tn(nb, n_out, n_in, h->dl[l], h->ra[l - 1], hv + m->w_off[l], NULL);
        }
        if (l == 0)
            break;
        size_t cnt = nb * n_in;
        mul_nn(nb, n_out, n_in, h->dl[l], W, h->g, 0);
        if (v) {
            mul_nn(nb, n_out, n_in, h->rd[l], W, h->rg, 0);
            mul_nn(nb, n_out, n_in, h->dl[l], v + m->w_off[l], h->rg, 1);
        }
        const double *fp = h->fp[l - 1];
        for (size_t i = 0; i < cnt; i++) {
            h->dl[l - 1][i] = h->g[i] * fp[i];
            if (v)
                h->rd[l - 1][i] = h->rg[i] * fp[i] + h->g[i] * h->fpp[l - 1][i] * h->rz[l - 1][i];
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
    if (!w) {
        for (size_t i = 0; i < np; i++)
            h->wd[i] = m->params[i];
        w = h->wd;
    }
    if (v)
        memset(hv, 0, np * sizeof *hv);
    if (grad)
        memset(grad, 0, np * sizeof *grad);
    double lsum = 0.0;
    for (size_t first = 0; first < n; first += h->cap) {
        size_t nb = n - first < h->cap ? n - first : h->cap;
        batch(h, w, d, idx, first, nb, v, hv, grad, &lsum);
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
