#include "autoconf.h"
#include "backprop.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "bundled.h"
#include "kernels.h"
#include "small.h"

#include <bprun/vexp.h>

static float *alloc_floats(size_t n, size_t *total, bp_err *e)
{
    size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (!p)
        bp_err_set(e, BP_ENOMEM, "out of memory for %zu floats", n);
    else
        memset(p, 0, bytes);
    *total += bytes ? bytes : 64;
    return p;
}

bp_work *bp_work_new(const bp_model *m, size_t cap, bp_err *e)
{
    bp_work *w = bp_xcalloc(1, sizeof *w, e);
    if (!w)
        return NULL;
    w->cap = cap;
    w->n_layers = m->n_layers;
    w->Z = bp_xcalloc(m->n_layers, sizeof *w->Z, e);
    w->A = bp_xcalloc(m->n_layers, sizeof *w->A, e);
    w->D = bp_xcalloc(m->n_layers, sizeof *w->D, e);
    w->T = bp_xcalloc(m->n_layers, sizeof *w->T, e);
    if (!w->Z || !w->A || !w->D || !w->T)
        goto fail;
    for (size_t l = 0; l < m->n_layers; l++) {
        size_t sz = cap * (size_t)m->sizes[l + 1];
        if (!(w->Z[l] = alloc_floats(sz, &w->bytes, e)) ||
            !(w->A[l] = alloc_floats(sz, &w->bytes, e)) ||
            !(w->D[l] = alloc_floats(sz, &w->bytes, e)) ||
            !(w->T[l] = alloc_floats(sz, &w->bytes, e)))
            goto fail;
    }
    size_t k = (size_t)m->sizes[m->n_layers];
    if (!(w->Xb = alloc_floats(cap * (size_t)m->sizes[0], &w->bytes, e)) ||
        !(w->Yb = alloc_floats(cap * k, &w->bytes, e)))
        goto fail;
    w->yb = bp_xcalloc(cap, sizeof *w->yb, e);
    w->loss_row = bp_xcalloc(cap, sizeof *w->loss_row, e);
    w->lse = bp_xcalloc(cap, sizeof *w->lse, e);
    if (!w->yb || !w->loss_row || !w->lse)
        goto fail;
    w->bytes += sizeof *w + 4 * m->n_layers * sizeof *w->Z +
                cap * (sizeof *w->yb + sizeof *w->loss_row + sizeof *w->lse);
    return w;
fail:
    bp_work_free(w);
    return NULL;
}

void bp_work_free(bp_work *w)
{
    if (!w)
        return;
    for (size_t l = 0; l < w->n_layers; l++) {
        if (w->Z)
            free(w->Z[l]);
        if (w->A)
            free(w->A[l]);
        if (w->D)
            free(w->D[l]);
        if (w->T)
            free(w->T[l]);
    }
    free(w->Z);
    free(w->A);
    free(w->D);
    free(w->T);
    free(w->Xb);
    free(w->Yb);
    free(w->yb);
    free(w->loss_row);
    free(w->lse);
    free(w);
}

static void gather_rows(bp_work *w, const bp_dataset *d, const uint32_t *idx, size_t first,
                        size_t r0, size_t r1)
{
    for (size_t r = r0; r < r1; r++) {
        size_t src = idx ? idx[first + r] : first + r;
        memcpy(w->Xb + r * d->d, d->X + src * d->d, d->d * sizeof(float));
        if (d->kind == BP_TARGET_LABELS)
            w->yb[r] = d->y[src];
        else
            memcpy(w->Yb + r * d->k, d->Y + src * d->k, d->k * sizeof(float));
    }
}

void bp_gather(bp_work *w, const bp_dataset *d, const uint32_t *idx, size_t first, size_t nb)
{
    gather_rows(w, d, idx, first, 0, nb);
}

/* A batch of wide rows is copied by the threads, each its share of the rows (a copy: the same
 * bytes however it is shared); below this many bytes one thread is faster than a team. */
#define GATHER_MIN_PARALLEL (64 * 1024)

void bp_gather_threads(bp_work *w, const bp_dataset *d, const uint32_t *idx, size_t first,
                       size_t nb, int nthreads)
{
    if (nthreads <= 1 || nb < 2 || nb * d->d * sizeof(float) < GATHER_MIN_PARALLEL) {
        gather_rows(w, d, idx, first, 0, nb);
        return;
    }
#pragma omp parallel num_threads(nthreads)
    {
        size_t k = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
        gather_rows(w, d, idx, first, nb * k / nt, nb * (k + 1) / nt);
    }
}

/* softmax of each row, and the row's log-sum-exp (lse[r] = max + log sum exp(z - max), what
 * the cross-entropy loss needs: it is computed here once, from the same exponentials). The
 * exponentials are bprun/vexp.h's (no libm call; the sum is in double, in index order). */
BP_VCLONES static void softmax_rows(const float *Z, float *A, size_t nb, size_t n, double *lse)
{
    for (size_t r = 0; r < nb; r++) {
        const float *z = Z + r * n;
        float *a = A + r * n;
        float mx = z[0];
        for (size_t j = 1; j < n; j++)
            if (z[j] > mx)
                mx = z[j];
#pragma omp simd
        for (size_t j = 0; j < n; j++)
            a[j] = bp_vexpf(z[j] - mx);
        double s = 0.0;
        for (size_t j = 0; j < n; j++)
            s += a[j];
        float inv = (float)(1.0 / s);
#pragma omp simd
        for (size_t j = 0; j < n; j++)
            a[j] *= inv;
        lse[r] = (double)mx + log(s);
    }
}

/* epilogues run on row blocks by the threads of the product (kernels.h) */
/* The inline products of small.h give the bits of the builtin kernels, not of the CBLAS path:
 * used only for layers the CBLAS path does not take (a choice from the layer's sizes), so a
 * row's bits never depend on the batch size. */
static int small_ok(size_t nb, size_t n_out, size_t n_in)
{
    return bp_small_use(nb, n_out, n_in) && !bp_kernels_blas_layer(n_out * n_in);
}

typedef struct rows_ctx {
    const bp_act *act;
    const float *Z;
    float *A, *D, *T;
    double *lse;
    size_t n;
} rows_ctx;

static void forward_rows(void *ud, size_t i0, size_t mi)
{
    const rows_ctx *c = ud;
    size_t o = i0 * c->n;
    if (c->act->fn)
        c->act->fn->forward(c->Z + o, c->A + o, mi * c->n, c->act->hp);
    else
        softmax_rows(c->Z + o, c->A + o, mi, c->n, c->lse + i0);
}

void bp_forward(const bp_model *m, bp_work *w, const float *X, size_t nb, int nthreads)
{
    const float *in = X;
    for (size_t l = 0; l < m->n_layers; l++) {
        size_t n_in = (size_t)m->sizes[l], n_out = (size_t)m->sizes[l + 1];
        rows_ctx c = { .act = &m->act[l], .Z = w->Z[l], .A = w->A[l], .lse = w->lse,
                       .n = n_out };
        if (small_ok(nb, n_out, n_in)) {
            bp_small_gemm_nt(nb, n_out, n_in, in, n_in, bp_model_w(m, l), n_in, bp_model_b(m, l),
                             w->Z[l], n_out);
            forward_rows(&c, 0, nb);
        } else
            bp_gemm_nt_ep(nb, n_out, n_in, in, n_in, bp_model_w(m, l), n_in, bp_model_b(m, l),
                          w->Z[l], n_out, nthreads, forward_rows, &c);
        in = w->A[l];
    }
}

/* target value t_j of one row: matrix row, one-hot label, or the label itself for 1 output */
static inline float target_at(const bp_dataset *d, const float *Yrow, int32_t label, size_t n,
                              size_t j)
{
    if (d->kind == BP_TARGET_MATRIX)
        return Yrow[j];
    if (n == 1)
        return (float)label;
    return (size_t)label == j ? 1.0f : 0.0f;
}

static size_t argmax(const float *v, size_t n)
{
    size_t b = 0;
    for (size_t j = 1; j < n; j++)
        if (v[j] > v[b])
            b = j;
    return b;
}

/* log(1 + exp(x)) without overflow */
static double softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static double row_loss(const bp_model *m, const float *z, const float *o, const bp_dataset *d,
                       const float *Yrow, int32_t label, size_t n, double lse)
{
    double loss = 0.0;
    switch (m->loss) {
    case BP_LOSS_MSE:
        for (size_t j = 0; j < n; j++) {
            double diff = (double)o[j] - target_at(d, Yrow, label, n, j);
            loss += 0.5 * diff * diff;
        }
        break;
    case BP_LOSS_CROSS_ENTROPY: {
        /* -sum_j t_j log softmax(z)_j = sum_j t_j (logsumexp(z) - z_j); logsumexp from the
         * forward pass's softmax_rows (cross-entropy is only taken on a softmax output) */
        for (size_t j = 0; j < n; j++) {
            double t = target_at(d, Yrow, label, n, j);
            if (t != 0.0)
                loss += t * (lse - z[j]);
        }
        break;
    }
    case BP_LOSS_BCE:
        /* -[t log s(z) + (1-t) log(1-s(z))] = softplus(z) - t z */
        for (size_t j = 0; j < n; j++) {
            double t = target_at(d, Yrow, label, n, j);
            loss += softplus(z[j]) - t * z[j];
        }
        break;
    default:
        break;
    }
    return loss;
}

static int row_correct(const float *o, const bp_dataset *d, const float *Yrow, int32_t label,
                       size_t n)
{
    if (n == 1) {
        float t = d->kind == BP_TARGET_MATRIX ? Yrow[0] : (float)label;
        return (o[0] >= 0.5f) == (t >= 0.5f);
    }
    size_t want = d->kind == BP_TARGET_MATRIX ? argmax(Yrow, n) : (size_t)label;
    return argmax(o, n) == want;
}

/* the output error term of one row (fp: f'(z) of the row, for mse) */
static inline void out_delta(const bp_model *m, const float *o, const bp_dataset *d,
                             const float *Yrow, int32_t label, size_t n, const float *fp,
                             float *dl)
{
    if (m->loss == BP_LOSS_MSE) {
        for (size_t j = 0; j < n; j++)
            dl[j] = (o[j] - target_at(d, Yrow, label, n, j)) * fp[j];
    } else if (m->loss == BP_LOSS_CROSS_ENTROPY) {
        float tsum = 0.0f;
        for (size_t j = 0; j < n; j++)
            tsum += target_at(d, Yrow, label, n, j);
        for (size_t j = 0; j < n; j++)
            dl[j] = o[j] * tsum - target_at(d, Yrow, label, n, j);
    } else {
        for (size_t j = 0; j < n; j++)
            dl[j] = o[j] - target_at(d, Yrow, label, n, j);
    }
}

double bp_loss_batch(const bp_model *m, bp_work *w, const bp_dataset *d, size_t nb, size_t *correct,
               int want_delta)
{
    size_t L = m->n_layers - 1, n = (size_t)m->sizes[m->n_layers];
    const float *Z = w->Z[L], *O = w->A[L];
    float *D = w->D[L];
    double sum = 0.0;
    size_t ok = 0;
    if (want_delta && m->loss == BP_LOSS_MSE)
        m->act[L].fn->derivative(Z, O, w->T[L], nb * n, m->act[L].hp);
    for (size_t r = 0; r < nb; r++) {
        const float *z = Z + r * n, *o = O + r * n;
        const float *Yrow = d->kind == BP_TARGET_MATRIX ? w->Yb + r * n : NULL;
        int32_t label = d->kind == BP_TARGET_LABELS ? w->yb[r] : 0;
        double l = row_loss(m, z, o, d, Yrow, label, n, w->lse[r]);
        w->loss_row[r] = l;
        sum += l;
        ok += (size_t)row_correct(o, d, Yrow, label, n);
        if (want_delta)
            out_delta(m, o, d, Yrow, label, n, w->T[L] + r * n, D + r * n);
    }
    if (correct)
        *correct = ok;
    return sum;
}

/* delta_prev = (delta W) * f'(Z_prev) on rows [i0, i0 + mi) */
BP_VCLONES static void backward_rows(void *ud, size_t i0, size_t mi)
{
    const rows_ctx *c = ud;
    size_t o = i0 * c->n, cnt = mi * c->n;
    float *Dp = c->D + o, *fp = c->T + o;
    c->act->fn->derivative(c->Z + o, c->A + o, fp, cnt, c->act->hp);
#pragma omp simd
    for (size_t i = 0; i < cnt; i++)
        Dp[i] *= fp[i];
}

void bp_backward(const bp_model *m, bp_work *w, const float *X, size_t nb, float *grad,
                 int nthreads)
{
    bp_backward_scaled(m, w, X, nb, 1.0f / (float)nb, grad, nthreads);
}

void bp_backward_scaled(const bp_model *m, bp_work *w, const float *X, size_t nb, float scale,
                        float *grad, int nthreads)
{
    for (size_t l = m->n_layers; l-- > 0;) {
        size_t n_in = (size_t)m->sizes[l], n_out = (size_t)m->sizes[l + 1];
        const float *in = l ? w->A[l - 1] : X;
        if (small_ok(nb, n_out, n_in))
            bp_small_gemm_tn(n_out, n_in, nb, scale, w->D[l], n_out, in, n_in, grad + m->w_off[l],
                             n_in);
        else
            bp_gemm_tn(n_out, n_in, nb, scale, w->D[l], n_out, in, n_in, grad + m->w_off[l], n_in,
                       nthreads);
        if (bp_small_use(nb, n_out, 1))
            bp_small_colsum(nb, n_out, scale, w->D[l], n_out, grad + m->b_off[l]);
        else
            bp_colsum(nb, n_out, scale, w->D[l], n_out, grad + m->b_off[l]);
        if (l == 0)
            break;
        rows_ctx c = { .act = &m->act[l - 1], .Z = w->Z[l - 1], .A = w->A[l - 1],
                       .D = w->D[l - 1], .T = w->T[l - 1], .n = n_in };
        if (small_ok(nb, n_in, n_out)) {
            bp_small_gemm_nn(nb, n_in, n_out, w->D[l], n_out, bp_model_w(m, l), n_in, w->D[l - 1],
                             n_in);
            backward_rows(&c, 0, nb);
        } else
            bp_gemm_nn_ep(nb, n_in, n_out, w->D[l], n_out, bp_model_w(m, l), n_in, w->D[l - 1],
                          n_in, nthreads, backward_rows, &c);
    }
}

int bp_online_ok(const bp_model *m)
{
    for (size_t l = 0; l < m->n_layers; l++) {
        size_t n_in = (size_t)m->sizes[l], n_out = (size_t)m->sizes[l + 1];
        if (!small_ok(1, n_out, n_in) || (l && !m->act[l - 1].fn))
            return 0;
    }
    return m->loss != BP_LOSS_MSE || m->act[m->n_layers - 1].fn != NULL;
}

/* The chains of bp_forward, bp_loss_batch and bp_backward for nb = 1 on small.h's products:
 * bp_small_gemm_tn with k = 1 and alpha 1 is 0 + d * x, bp_small_colsum is 0 + d. */
double bp_online_row(const bp_model *m, bp_work *w, const bp_dataset *d, const float *x,
                     float *grad, int *correct)
{
    const float *in = x;
    size_t L = m->n_layers - 1;
    for (size_t l = 0; l <= L; l++) {
        size_t n_in = (size_t)m->sizes[l], n_out = (size_t)m->sizes[l + 1];
        bp_small_gemm_nt(1, n_out, n_in, in, n_in, bp_model_w(m, l), n_in, bp_model_b(m, l),
                         w->Z[l], n_out);
        if (m->act[l].fn)
            m->act[l].fn->forward(w->Z[l], w->A[l], n_out, m->act[l].hp);
        else
            softmax_rows(w->Z[l], w->A[l], 1, n_out, w->lse);
        in = w->A[l];
    }
    /* bp_loss_batch's row (its sum of one row from +0 is the row's loss: a row loss is never
     * -0, it is a sum from +0) */
    size_t n = (size_t)m->sizes[L + 1];
    const float *z = w->Z[L], *out = w->A[L];
    const float *Yrow = d->kind == BP_TARGET_MATRIX ? w->Yb : NULL;
    int32_t label = d->kind == BP_TARGET_LABELS ? w->yb[0] : 0;
    if (m->loss == BP_LOSS_MSE)
        m->act[L].fn->derivative(z, out, w->T[L], n, m->act[L].hp);
    double loss = row_loss(m, z, out, d, Yrow, label, n, w->lse[0]);
    w->loss_row[0] = loss;
    *correct = row_correct(out, d, Yrow, label, n);
    out_delta(m, out, d, Yrow, label, n, w->T[L], w->D[L]);
    for (size_t l = L + 1; l-- > 0;) {
        size_t n_in = (size_t)m->sizes[l], n_out = (size_t)m->sizes[l + 1];
        const float *a = l ? w->A[l - 1] : x, *D = w->D[l];
        float *gw = grad + m->w_off[l], *gb = grad + m->b_off[l];
        for (size_t o = 0; o < n_out; o++) {
            float dv = D[o];
            float *g = gw + o * n_in;
            for (size_t i = 0; i < n_in; i++)
                g[i] = 0.0f + dv * a[i];
            gb[o] = 0.0f + dv;
        }
        if (l == 0)
            break;
        const float *W = bp_model_w(m, l);
        float *Dp = w->D[l - 1], *fp = w->T[l - 1];
        for (size_t i = 0; i < n_in; i++)
            Dp[i] = 0.0f + D[0] * W[i];
        for (size_t o = 1; o < n_out; o++) {
            const float *wr = W + o * n_in;
            for (size_t i = 0; i < n_in; i++)
                Dp[i] += D[o] * wr[i];
        }
        m->act[l - 1].fn->derivative(w->Z[l - 1], w->A[l - 1], fp, n_in, m->act[l - 1].hp);
        for (size_t i = 0; i < n_in; i++)
            Dp[i] *= fp[i];
    }
    return loss;
}

int bp_fused_env(bp_err *e)
{
    const char *v = getenv("BPRUN_FUSED");
    if (!v || !*v || !strcmp(v, "1"))
        return 1;
    if (!strcmp(v, "0"))
        return 0;
    return bp_err_set(e, BP_EUSAGE, "BPRUN_FUSED: expected 0 or 1 (got '%s')", v);
}

/* the largest layer of a model bp_fused_row computes in registers */
#define FUSED_TINY 4

static int fused_act(const bp_act *a)
{
    static const char *const names[] = { [BP_FUSED_SIGMOID] = "sigmoid", [BP_FUSED_TANH] = "tanh",
                                         [BP_FUSED_RELU] = "relu",
                                         [BP_FUSED_IDENTITY] = "identity" };
    if (!a->fn)
        return BP_FUSED_SOFTMAX;
    if (a->fn->size < offsetof(bp_activation, bundled) + sizeof a->fn->bundled ||
        a->fn->bundled != BP_BUNDLED_KEY || a->n_hp)
        return -1;
    for (int k = BP_FUSED_SIGMOID; k <= BP_FUSED_IDENTITY; k++)
        if (!strcmp(a->name, names[k]))
            return k;
    return -1;
}

int bp_fused_ok(const bp_model *m, const bp_plugin *opt, const double *hp, bp_fused *f)
{
    const bp_optimizer *o = opt->u.optimizer;
    if (!bp_online_ok(m) || o->size < offsetof(bp_optimizer, bundled) + sizeof o->bundled ||
        o->bundled != BP_BUNDLED_KEY || strcmp(opt->name, "sgd") != 0 || o->n_state != 1 ||
        o->n_hparams != 5)
        return 0;
    /* sgd refuses these in its step (with its message): the plugin path says so */
    if (hp[3] != 0.0 && (hp[1] <= 0.0 || hp[2] != 0.0))
        return 0;
    for (size_t l = 0; l < m->n_layers; l++)
        if ((f->act[l] = fused_act(&m->act[l])) < 0 ||
            (f->act[l] == BP_FUSED_SOFTMAX && l + 1 != m->n_layers))
            return 0;
    f->tiny = m->n_layers == 2 && m->loss == BP_LOSS_MSE && f->act[1] != BP_FUSED_SOFTMAX;
    for (size_t l = 0; l <= m->n_layers; l++)
        f->tiny = f->tiny && m->sizes[l] <= FUSED_TINY;
    bp_fused_hp(f, hp);
    return 1;
}

/* sgd's hyperparameters in declaration order: lr, momentum, dampening, nesterov, weight_decay
 * (plugins/optimizers/sgd.c), converted as its step converts them */
void bp_fused_hp(bp_fused *f, const double *hp)
{
    f->neg_lr = (float)(-hp[0]);
    f->mom = (float)hp[1];
    f->keep = (float)(1.0 - hp[2]);
    f->wd = (float)hp[4];
    f->nesterov = hp[3] != 0.0;
    f->use_wd = hp[4] != 0.0;
    f->use_mom = hp[1] != 0.0;
}

/* The activations' element operations, as in plugins/activations/{sigmoid,tanh,relu,identity}.c */
static inline __attribute__((always_inline)) void fused_forward(int k, const float *z, float *a,
                                                                 size_t n, double *lse)
{
    switch (k) {
    case BP_FUSED_SIGMOID:
#pragma omp simd
        for (size_t i = 0; i < n; i++) {
            float x = z[i];
            float e = bp_vexpf(x >= 0.0f ? -x : x);
            a[i] = (x >= 0.0f ? 1.0f : e) / (1.0f + e);
        }
        break;
    case BP_FUSED_TANH:
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            a[i] = bp_vtanhf(z[i]);
        break;
    case BP_FUSED_RELU:
        for (size_t i = 0; i < n; i++)
            a[i] = z[i] <= 0.0f ? 0.0f : z[i];
        break;
    case BP_FUSED_IDENTITY:
        for (size_t i = 0; i < n; i++)
            a[i] = z[i];
        break;
    default:
        softmax_rows(z, a, 1, n, lse);
        break;
    }
}

static inline __attribute__((always_inline)) void fused_derivative(int k, const float *z, const float *a, float *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (k) {
        case BP_FUSED_SIGMOID:
            d[i] = a[i] * (1.0f - a[i]);
            break;
        case BP_FUSED_TANH:
            d[i] = 1.0f - a[i] * a[i];
            break;
        case BP_FUSED_RELU:
            d[i] = z[i] > 0.0f ? 1.0f : 0.0f;
            break;
        default:
            d[i] = 1.0f;
            break;
        }
    }
}

/* sgd's update of one parameter (SGD_BODY in plugins/optimizers/sgd.c) */
static inline float fused_sgd(const bp_fused *f, int first, float w, float g, float *buf)
{
    if (f->use_wd)
        g = fmaf(f->wd, w, g);
    if (f->use_mom) {
        float b = first ? g : fmaf(f->keep, g, *buf * f->mom);
        *buf = b;
        g = f->nesterov ? fmaf(f->mom, b, g) : b;
    }
    return fmaf(f->neg_lr, g, w);
}

/* One element of each activation, as fused_forward and fused_derivative */
static inline __attribute__((always_inline)) float tiny_act(int k, float x)
{
    switch (k) {
    case BP_FUSED_SIGMOID: {
        float e = bp_vexpf(x >= 0.0f ? -x : x);
        return (x >= 0.0f ? 1.0f : e) / (1.0f + e);
    }
    case BP_FUSED_TANH:
        return bp_vtanhf(x);
    case BP_FUSED_RELU:
        return x <= 0.0f ? 0.0f : x;
    default:
        return x;
    }
}

static inline __attribute__((always_inline)) float tiny_der(int k, float z, float a)
{
    switch (k) {
    case BP_FUSED_SIGMOID:
        return a * (1.0f - a);
    case BP_FUSED_TANH:
        return 1.0f - a * a;
    case BP_FUSED_RELU:
        return z > 0.0f ? 1.0f : 0.0f;
    default:
        return 1.0f;
    }
}

/* bp_fused_row for f->tiny (one hidden layer, at most FUSED_TINY units a layer, mse, no
 * softmax): the same chains as the general code below (bp_small_gemm_nt's tail sum from +0
 * for fewer than 8 inputs, then + bias; row_loss's and row_correct's mse and accuracy;
 * out_delta's (o - t) f'; the error terms from +0 in ascending order; sgd's update), on local
 * arrays of FUSED_TINY elements whose loops unroll completely, so the row stays in registers
 * instead of going through w->Z, A, D and T (about a third of an XOR step's time). */
static inline __attribute__((always_inline)) double
fused_tiny_row(const bp_model *m, bp_work *w, const bp_dataset *d, const float *x,
               const bp_fused *f, float *state, uint64_t step, int *correct)
{
    const size_t I = (size_t)m->sizes[0], H = (size_t)m->sizes[1], O = (size_t)m->sizes[2];
    const int kh = f->act[0], ko = f->act[1];
    float *W1 = bp_model_w(m, 0), *b1 = bp_model_b(m, 0), *W2 = bp_model_w(m, 1),
          *b2 = bp_model_b(m, 1);
    float xs[FUSED_TINY] = { 0 }, z1[FUSED_TINY] = { 0 }, a1[FUSED_TINY] = { 0 },
          z2[FUSED_TINY] = { 0 }, o[FUSED_TINY] = { 0 }, t[FUSED_TINY] = { 0 },
          d2[FUSED_TINY] = { 0 }, d1[FUSED_TINY] = { 0 };
#pragma GCC unroll 4
    for (size_t p = 0; p < FUSED_TINY; p++)
        xs[p] = p < I ? x[p] : 0.0f;
#pragma GCC unroll 4
    for (size_t j = 0; j < FUSED_TINY; j++) {
        if (j >= H)
            break;
        float s = 0.0f;
#pragma GCC unroll 4
        for (size_t p = 0; p < FUSED_TINY; p++)
            if (p < I)
                s += xs[p] * W1[j * I + p];
        s += b1[j];
        z1[j] = s;
        a1[j] = tiny_act(kh, s);
    }
    const float *Yrow = d->kind == BP_TARGET_MATRIX ? w->Yb : NULL;
    int32_t label = d->kind == BP_TARGET_LABELS ? w->yb[0] : 0;
    double loss = 0.0;
#pragma GCC unroll 4
    for (size_t j = 0; j < FUSED_TINY; j++) {
        if (j >= O)
            break;
        float s = 0.0f;
#pragma GCC unroll 4
        for (size_t p = 0; p < FUSED_TINY; p++)
            if (p < H)
                s += a1[p] * W2[j * H + p];
        s += b2[j];
        z2[j] = s;
        o[j] = tiny_act(ko, s);
        t[j] = target_at(d, Yrow, label, O, j);
        double diff = (double)o[j] - t[j];
        loss += 0.5 * diff * diff;
    }
    w->loss_row[0] = loss;
    if (O == 1) {
        float tt = d->kind == BP_TARGET_MATRIX ? Yrow[0] : (float)label;
        *correct = (o[0] >= 0.5f) == (tt >= 0.5f);
    } else {
        size_t want = d->kind == BP_TARGET_MATRIX ? argmax(Yrow, O) : (size_t)label, b = 0;
#pragma GCC unroll 4
        for (size_t j = 1; j < FUSED_TINY; j++)
            if (j < O && o[j] > o[b])
                b = j;
        *correct = b == want;
    }
    if (!isfinite(loss))
        return loss;
#pragma GCC unroll 4
    for (size_t j = 0; j < FUSED_TINY; j++)
        d2[j] = j < O ? (o[j] - t[j]) * tiny_der(ko, z2[j], o[j]) : 0.0f;
#pragma GCC unroll 4
    for (size_t i = 0; i < FUSED_TINY; i++) {
        if (i >= H)
            break;
        float s = 0.0f + d2[0] * W2[i];
#pragma GCC unroll 4
        for (size_t k = 1; k < FUSED_TINY; k++)
            if (k < O)
                s += d2[k] * W2[k * H + i];
        d1[i] = s * tiny_der(kh, z1[i], a1[i]);
    }
    int first = step == 1;
    float *sw = state + m->w_off[1], *sb = state + m->b_off[1];
#pragma GCC unroll 4
    for (size_t k = 0; k < FUSED_TINY; k++) {
        if (k >= O)
            break;
#pragma GCC unroll 4
        for (size_t i = 0; i < FUSED_TINY; i++)
            if (i < H)
                W2[k * H + i] = fused_sgd(f, first, W2[k * H + i], 0.0f + d2[k] * a1[i],
                                          sw + k * H + i);
        b2[k] = fused_sgd(f, first, b2[k], 0.0f + d2[k], sb + k);
    }
    sw = state + m->w_off[0];
    sb = state + m->b_off[0];
#pragma GCC unroll 4
    for (size_t j = 0; j < FUSED_TINY; j++) {
        if (j >= H)
            break;
#pragma GCC unroll 4
        for (size_t p = 0; p < FUSED_TINY; p++)
            if (p < I)
                W1[j * I + p] = fused_sgd(f, first, W1[j * I + p], 0.0f + d1[j] * xs[p],
                                          sw + j * I + p);
        b1[j] = fused_sgd(f, first, b1[j], 0.0f + d1[j], sb + j);
    }
    return loss;
}

/* bp_online_row's chains, then sgd's update of each layer once its weights have been used for
 * the error terms of the layer below (every element's operations as before: only elements of
 * different parameters are interleaved differently). Compiled for x86-64-v3 too (BP_VCLONES),
 * where fmaf is one instruction, as in the sgd plugin; fmaf rounds once by definition, so the
 * baseline clone's libm call gives the same bits. */
BP_VCLONES double bp_fused_row(const bp_model *m, bp_work *w, const bp_dataset *d,
                               const float *x, const bp_fused *f, float *state, uint64_t step,
                               int *correct)
{
    if (f->tiny)
        return fused_tiny_row(m, w, d, x, f, state, step, correct);
    const float *in = x;
    size_t L = m->n_layers - 1;
    for (size_t l = 0; l <= L; l++) {
        size_t n_in = (size_t)m->sizes[l], n_out = (size_t)m->sizes[l + 1];
        bp_small_gemm_nt(1, n_out, n_in, in, n_in, bp_model_w(m, l), n_in, bp_model_b(m, l),
                         w->Z[l], n_out);
        fused_forward(f->act[l], w->Z[l], w->A[l], n_out, w->lse);
        in = w->A[l];
    }
    size_t n = (size_t)m->sizes[L + 1];
    const float *z = w->Z[L], *out = w->A[L];
    const float *Yrow = d->kind == BP_TARGET_MATRIX ? w->Yb : NULL;
    int32_t label = d->kind == BP_TARGET_LABELS ? w->yb[0] : 0;
    if (m->loss == BP_LOSS_MSE)
        fused_derivative(f->act[L], z, out, w->T[L], n);
    double loss = row_loss(m, z, out, d, Yrow, label, n, w->lse[0]);
    w->loss_row[0] = loss;
    *correct = row_correct(out, d, Yrow, label, n);
    if (!isfinite(loss))
        return loss;
    out_delta(m, out, d, Yrow, label, n, w->T[L], w->D[L]);
    int first = step == 1;
    for (size_t l = L + 1; l-- > 0;) {
        size_t n_in = (size_t)m->sizes[l], n_out = (size_t)m->sizes[l + 1];
        const float *a = l ? w->A[l - 1] : x, *D = w->D[l];
        float *W = bp_model_w(m, l), *b = bp_model_b(m, l);
        if (l) {
            float *Dp = w->D[l - 1], *fp = w->T[l - 1];
            for (size_t i = 0; i < n_in; i++)
                Dp[i] = 0.0f + D[0] * W[i];
            for (size_t o = 1; o < n_out; o++) {
                const float *wr = W + o * n_in;
                for (size_t i = 0; i < n_in; i++)
                    Dp[i] += D[o] * wr[i];
            }
            fused_derivative(f->act[l - 1], w->Z[l - 1], w->A[l - 1], fp, n_in);
            for (size_t i = 0; i < n_in; i++)
                Dp[i] *= fp[i];
        }
        float *sw = state + m->w_off[l], *sb = state + m->b_off[l];
        for (size_t o = 0; o < n_out; o++) {
            float dv = D[o];
            float *wr = W + o * n_in, *sr = sw + o * n_in;
            for (size_t i = 0; i < n_in; i++)
                wr[i] = fused_sgd(f, first, wr[i], 0.0f + dv * a[i], sr + i);
            b[o] = fused_sgd(f, first, b[o], 0.0f + dv, sb + o);
        }
    }
    return loss;
}

double bp_max_output_error(const bp_model *m, bp_work *w, const bp_dataset *d, int nthreads)
{
    size_t n = (size_t)m->sizes[m->n_layers];
    double worst = 0.0;
    for (size_t first = 0; first < d->n; first += w->cap) {
        size_t nb = d->n - first < w->cap ? d->n - first : w->cap;
        bp_gather_threads(w, d, NULL, first, nb, nthreads);
        bp_forward(m, w, w->Xb, nb, nthreads);
        const float *O = w->A[m->n_layers - 1];
        for (size_t r = 0; r < nb; r++) {
            const float *Yrow = d->kind == BP_TARGET_MATRIX ? w->Yb + r * n : NULL;
            int32_t label = d->kind == BP_TARGET_LABELS ? w->yb[r] : 0;
            for (size_t j = 0; j < n; j++) {
                double err = fabs((double)O[r * n + j] - target_at(d, Yrow, label, n, j));
                if (!(err <= worst))
                    worst = err;   /* NaN sticks */
            }
        }
    }
    return worst;
}

void bp_evaluate(const bp_model *m, bp_work *w, const bp_dataset *d, int nthreads, double *loss,
                 double *accuracy)
{
    double sum = 0.0;
    size_t ok = 0;
    for (size_t first = 0; first < d->n; first += w->cap) {
        size_t nb = d->n - first < w->cap ? d->n - first : w->cap;
        bp_gather_threads(w, d, NULL, first, nb, nthreads);
        bp_forward(m, w, w->Xb, nb, nthreads);
        size_t c = 0;
        bp_loss_batch(m, w, d, nb, &c, 0);
        for (size_t r = 0; r < nb; r++)
            sum += w->loss_row[r];
        ok += c;
    }
    *loss = sum / (double)d->n;
    *accuracy = (double)ok / (double)d->n;
}
