#include "autoconf.h"
#include "diag.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

static double dot(const double *x, const double *y, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += x[i] * y[i];
    return s;
}

/* number of eigenvalues of the tridiagonal (a, b) below x (Sturm sequence) */
static int sturm_below(const double *a, const double *b, int k, double x)
{
    int cnt = 0;
    double q = 1.0;
    for (int i = 0; i < k; i++) {
        double bb = i ? b[i - 1] * b[i - 1] : 0.0;
        q = a[i] - x - (i ? bb / q : 0.0);
        if (q == 0.0)
            q = -1e-300;
        if (q < 0)
            cnt++;
    }
    return cnt;
}

static void tridiag_eigs(const double *a, const double *b, int k, double *out)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < k; i++) {
        double r = (i ? fabs(b[i - 1]) : 0.0) + (i + 1 < k ? fabs(b[i]) : 0.0);
        lo = fmin(lo, a[i] - r);
        hi = fmax(hi, a[i] + r);
    }
    double pad = 1e-12 * (fabs(lo) + fabs(hi) + 1.0);
    lo -= pad;
    hi += pad;
    for (int j = 0; j < k; j++) { /* the j-th smallest: count(x) <= j on [l, u) */
        double l = lo, u = hi;
        for (int it = 0; it < 200 && u - l > 0; it++) {
            double mid = 0.5 * (l + u);
            if (mid <= l || mid >= u)
                break;
            if (sturm_below(a, b, k, mid) > j)
                u = mid;
            else
                l = mid;
        }
        out[j] = 0.5 * (l + u);
    }
}

int bp_lanczos(bp_linop op, void *ud, size_t n, int steps, uint64_t seed, uint64_t trial,
               uint64_t at, double *lmin, double *lmax, double *ritz, int *n_ritz, bp_err *e)
{
    int k = steps < 1 ? 1 : steps;
    if ((size_t)k > n)
        k = (int)n;
    double *Q = bp_xcalloc((size_t)k * n, sizeof *Q, e), *wv = bp_xcalloc(n, sizeof *wv, e);
    double *a = bp_xcalloc((size_t)k, sizeof *a, e), *b = bp_xcalloc((size_t)k, sizeof *b, e);
    double *ev = bp_xcalloc((size_t)k, sizeof *ev, e);
    int rc = BP_OK, m = 0;
    if (!Q || !wv || !a || !b || !ev) {
        rc = BP_ENOMEM;
        goto out;
    }
    bp_rng r = bp_rng_stream(seed, trial, BP_RNG_DIAG, 2 * at);
    for (size_t i = 0; i < n; i++)
        Q[i] = bp_rng_normal(&r);
    double nq = sqrt(dot(Q, Q, n));
    for (size_t i = 0; i < n; i++)
        Q[i] /= nq;
    double tmax = 0.0;
    for (m = 0; m < k;) {
        double *q = Q + (size_t)m * n;
        if ((rc = op(ud, q, wv, e)) != 0)
            goto out;
        a[m] = dot(q, wv, n);
        tmax = fmax(tmax, fabs(a[m]));
        m++;
        if (m == k)
            break;
        for (int pass = 0; pass < 2; pass++)
            for (int j = 0; j < m; j++) {
                const double *qj = Q + (size_t)j * n;
                double c = dot(qj, wv, n);
                for (size_t i = 0; i < n; i++)
                    wv[i] -= c * qj[i];
            }
        double beta = sqrt(dot(wv, wv, n));
        tmax = fmax(tmax, beta);
        if (!(beta > 1e-10 * tmax))
            break;
        b[m - 1] = beta;
        for (size_t i = 0; i < n; i++)
            Q[(size_t)m * n + i] = wv[i] / beta;
    }
    tridiag_eigs(a, b, m, ev);
    *lmin = ev[0];
    *lmax = ev[m - 1];
    if (ritz)
        memcpy(ritz, ev, (size_t)m * sizeof *ev);
    if (n_ritz)
        *n_ritz = m;
out:
    free(Q);
    free(wv);
    free(a);
    free(b);
    free(ev);
    return rc;
}

int bp_hutchinson(bp_linop op, void *ud, size_t n, int samples, uint64_t seed, uint64_t trial,
                  uint64_t at, double *trace, double *se, bp_err *e)
{
    double *z = bp_xcalloc(n, sizeof *z, e), *y = bp_xcalloc(n, sizeof *y, e);
    int rc = BP_OK;
    if (!z || !y) {
        rc = BP_ENOMEM;
        goto out;
    }
    bp_rng r = bp_rng_stream(seed, trial, BP_RNG_DIAG, 2 * at + 1);
    double sum = 0.0, sum2 = 0.0;
    for (int s = 0; s < samples; s++) {
        for (size_t i = 0; i < n; i++)
            z[i] = (bp_rng_u64(&r) & 1) ? 1.0 : -1.0;
        if ((rc = op(ud, z, y, e)) != 0)
            goto out;
        double q = dot(z, y, n);
        sum += q;
        sum2 += q * q;
    }
    double mean = sum / samples;
    *trace = mean;
    if (se) {
        double var = samples > 1 ? (sum2 - samples * mean * mean) / (samples - 1) : 0.0;
        *se = samples > 1 ? sqrt(fmax(var, 0.0) / samples) : 0.0;
    }
out:
    free(z);
    free(y);
    return rc;
}

typedef struct hvp_op {
    bp_hvp *h;
    const bp_dataset *d;
} hvp_op;

static int apply_hvp(void *ud, const double *x, double *y, bp_err *e)
{
    hvp_op *o = ud;
    return bp_hvp_eval(o->h, NULL, o->d, NULL, o->d->n, x, y, NULL, NULL, e);
}

int bp_curvature_measure(bp_hvp *h, const bp_dataset *d, int lanczos_steps, int trace_samples,
                         uint64_t seed, uint64_t trial, uint64_t at, bp_curvature *c, bp_err *e)
{
    return bp_curvature_measure_ritz(h, d, lanczos_steps, trace_samples, seed, trial, at, c, NULL,
                                     NULL, e);
}

int bp_curvature_measure_ritz(bp_hvp *h, const bp_dataset *d, int lanczos_steps,
                              int trace_samples, uint64_t seed, uint64_t trial, uint64_t at,
                              bp_curvature *c, double *ritz, int *n_ritz, bp_err *e)
{
    if (n_ritz)
        *n_ritz = 0;
    size_t np = bp_hvp_model(h)->n_params;
    double *g = bp_xcalloc(np, sizeof *g, e);
    if (!g)
        return BP_ENOMEM;
    c->lambda_max = c->lambda_min = c->trace = c->trace_se = NAN;
    int rc = bp_hvp_eval(h, NULL, d, NULL, d->n, NULL, NULL, g, &c->loss, e);
    c->grad_norm = sqrt(dot(g, g, np));
    free(g);
    if (rc)
        return rc;
    hvp_op o = { h, d };
    if ((rc = bp_lanczos(apply_hvp, &o, np, lanczos_steps, seed, trial, at, &c->lambda_min,
                         &c->lambda_max, ritz, n_ritz, e)) != 0)
        return rc;
    if (trace_samples > 0)
        rc = bp_hutchinson(apply_hvp, &o, np, trace_samples, seed, trial, at, &c->trace,
                           &c->trace_se, e);
    return rc;
}

/* ---- per-trial diagnostics ---- */

#include <stdio.h>

#include "backprop.h"

const char *const bp_verdict_names[BP_VERDICT_COUNT] = {
    "diverged", "minimum", "saddle", "plateau", "saturated", "not_converged", "stationary",
    "descending"
};

#define DIAG_NAME_MAX 24

struct bp_diag_run {
    const bp_config *c;
    const bp_dataset *train;
    uint64_t seed, trial;
    int nthreads;
    size_t np, n_cols, n_sat, n_dead;
    char (*names)[DIAG_NAME_MAX];
    const char **name_ptrs;
    int *sat_layer, *dead_layer;     /* layer of each sat_l / dead_l column */
    double *gsum, *w0, *wprev;       /* n_params each */
    size_t seen;
    double *loss_hist;               /* plateau window ring: plateau_window + 1 */
    int plateau_run;
    double last_sat_max;
    bp_hvp *hvp;                     /* NULL with hessian off */
    double *ritz;                    /* lanczos_steps: the end-of-trial Ritz values */
    bp_work *work;
    float *gf;                       /* float gradient (hessian off) */
};

void bp_diag_run_free(bp_diag_run *d)
{
    if (!d)
        return;
    free(d->names);
    free(d->name_ptrs);
    free(d->sat_layer);
    free(d->dead_layer);
    free(d->gsum);
    free(d->w0);
    free(d->wprev);
    free(d->loss_hist);
    bp_hvp_free(d->hvp);
    bp_work_free(d->work);
    free(d->gf);
    free(d->ritz);
    free(d);
}

static void add_col(bp_diag_run *d, const char *fmt, int l)
{
    snprintf(d->names[d->n_cols], DIAG_NAME_MAX, fmt, l);
    d->name_ptrs[d->n_cols] = d->names[d->n_cols];
    d->n_cols++;
}

bp_diag_run *bp_diag_run_new(const bp_config *c, const bp_model *m, const bp_dataset *train,
                             uint64_t seed, uint64_t trial, int nthreads, bp_err *e)
{
    bp_diag_run *d = bp_xcalloc(1, sizeof *d, e);
    if (!d)
        return NULL;
    d->c = c;
    d->train = train;
    d->seed = seed;
    d->trial = trial;
    d->nthreads = nthreads;
    d->np = m->n_params;
    d->last_sat_max = NAN;
    size_t L = m->n_layers, maxc = 8 + 2 * L;
    d->names = bp_xcalloc(maxc, sizeof *d->names, e);
    d->name_ptrs = bp_xcalloc(maxc, sizeof *d->name_ptrs, e);
    d->sat_layer = bp_xcalloc(L, sizeof *d->sat_layer, e);
    d->dead_layer = bp_xcalloc(L, sizeof *d->dead_layer, e);
    d->gsum = bp_xcalloc(d->np, sizeof *d->gsum, e);
    d->w0 = bp_xcalloc(d->np, sizeof *d->w0, e);
    d->wprev = bp_xcalloc(d->np, sizeof *d->wprev, e);
    d->loss_hist = bp_xcalloc((size_t)c->diagnostics.plateau_window + 1, sizeof(double), e);
    d->work = bp_work_new(m, train->n < 256 ? train->n : 256, e);
    d->gf = bp_xcalloc(d->np, sizeof *d->gf, e);
    d->ritz = bp_xcalloc((size_t)(c->diagnostics.lanczos_steps > 0 ? c->diagnostics.lanczos_steps
                                                                     : 1), sizeof *d->ritz, e);
    if (!d->names || !d->name_ptrs || !d->sat_layer || !d->dead_layer || !d->gsum || !d->w0 ||
        !d->wprev || !d->loss_hist || !d->work || !d->gf || !d->ritz)
        goto fail;
    /* the whole training set in one batch when its forward pass fits in 64 MiB (the Lanczos and
     * Hutchinson products then reuse it: hvp.h), else batches of 256 rows */
    size_t row_bytes = 8 * (size_t)m->sizes[0];
    for (size_t l = 0; l < L; l++)
        row_bytes += 10 * sizeof(double) * (size_t)m->sizes[l + 1];
    size_t hcap = train->n <= ((size_t)64 << 20) / (row_bytes ? row_bytes : 1) ? train->n
                  : train->n < 256 ? train->n : 256;
    if (c->diagnostics.hessian_at != BP_HESSIAN_OFF && !(d->hvp = bp_hvp_new(m, hcap, e))) {
        if (e->code == BP_EPLUGIN) {
            char msg[BP_ERR_MSG_MAX];
            snprintf(msg, sizeof msg, "%s", e->msg);
            bp_err_set(e, BP_EPLUGIN, "diagnostics.hessian: %s", msg);
        }
        goto fail;
    }
    for (size_t i = 0; i < d->np; i++)
        d->w0[i] = d->wprev[i] = m->params[i];
    if (c->diagnostics.grad_norm)
        add_col(d, "grad_norm", 0);
    if (c->diagnostics.weight_norm)
        add_col(d, "weight_norm", 0);
    if (c->diagnostics.update_ratio)
        add_col(d, "update_ratio", 0);
    if (c->diagnostics.distance)
        add_col(d, "distance", 0);
    for (size_t l = 0; l < L; l++)
        if (m->act[l].fn) {
            if (c->diagnostics.saturation)
                add_col(d, "sat_l%d", (int)l);
            d->sat_layer[d->n_sat++] = (int)l; /* measured for the verdict even when not shown */
        }
    if (c->diagnostics.dead_relu)
        for (size_t l = 0; l + 1 < L; l++) {
            add_col(d, "dead_l%d", (int)l);
            d->dead_layer[d->n_dead++] = (int)l;
        }
    if (c->diagnostics.plateau_window > 0)
        add_col(d, "plateau", 0);
    if (c->diagnostics.hessian_at == BP_HESSIAN_EVERY) {
        add_col(d, "lambda_max", 0);
        add_col(d, "lambda_min", 0);
        add_col(d, "trace", 0);
    }
    return d;
fail:
    bp_diag_run_free(d);
    return NULL;
}

void bp_diag_run_rebase(bp_diag_run *d, const bp_model *m)
{
    for (size_t i = 0; i < d->np; i++)
        d->w0[i] = d->wprev[i] = m->params[i];
}

size_t bp_diag_run_columns(const bp_diag_run *d, const char *const **names)
{
    *names = (const char *const *)d->name_ptrs;
    return d->n_cols;
}

void bp_diag_run_batch(bp_diag_run *d, const bp_batch_info *b)
{
    if (b->phase != BP_BATCH_GRADIENT)
        return;
    double k = b->summed ? 1.0 : (double)b->nb; /* the sum of the rows' gradients */
    for (size_t i = 0; i < d->np; i++)
        d->gsum[i] += k * b->grad[i];
    d->seen += b->nb;
}

/* Saturated fraction of (row, unit) pairs per layer: |f'(z)| < threshold |f'(0)|; dead units:
 * f'(z) == 0 on every training row. sat[l] NaN when f'(0) == 0 or l has no plugin. */
static void activity(bp_diag_run *d, const bp_model *m, double *sat, double *dead)
{
    size_t L = m->n_layers, n = d->train->n;
    double thr = d->c->diagnostics.sat_threshold > 0 ? d->c->diagnostics.sat_threshold : 0.05;
    bp_work *w = d->work;
    for (size_t l = 0; l < L; l++) {
        sat[l] = 0.0;
        dead[l] = 0.0;
    }
    unsigned char *alive[64] = { 0 };
    double fp0[64];
    for (size_t l = 0; l < L && l < 64; l++) {
        fp0[l] = NAN;
        if (!m->act[l].fn)
            continue;
        float z = 0.0f, a, t;
        m->act[l].fn->forward(&z, &a, 1, m->act[l].hp);
        m->act[l].fn->derivative(&z, &a, &t, 1, m->act[l].hp);
        fp0[l] = fabs((double)t);
        alive[l] = calloc((size_t)m->sizes[l + 1], 1);
    }
    for (size_t first = 0; first < n; first += w->cap) {
        size_t nb = n - first < w->cap ? n - first : w->cap;
        bp_gather(w, d->train, NULL, first, nb);
        bp_forward(m, w, w->Xb, nb, d->nthreads);
        for (size_t l = 0; l < L && l < 64; l++) {
            if (!m->act[l].fn)
                continue;
            size_t k = (size_t)m->sizes[l + 1], cnt = nb * k;
            m->act[l].fn->derivative(w->Z[l], w->A[l], w->T[l], cnt, m->act[l].hp);
            for (size_t i = 0; i < cnt; i++) {
                double t = fabs((double)w->T[l][i]);
                if (t < thr * fp0[l])
                    sat[l] += 1.0;
                if (t != 0.0 && alive[l])
                    alive[l][i % k] = 1;
            }
        }
    }
    for (size_t l = 0; l < L; l++) {
        if (l >= 64 || !m->act[l].fn || !(fp0[l] > 0)) {
            sat[l] = NAN;
        } else {
            sat[l] /= (double)n * (double)m->sizes[l + 1];
        }
        if (l < 64 && alive[l]) {
            size_t k = (size_t)m->sizes[l + 1], nd = 0;
            for (size_t j = 0; j < k; j++)
                nd += !alive[l][j];
            dead[l] = (double)nd / (double)k;
        } else {
            dead[l] = NAN;
        }
        if (l < 64)
            free(alive[l]);
    }
}

int bp_diag_run_epoch(bp_diag_run *d, const bp_model *m, int epoch, double loss, double *extra,
                      bp_err *e)
{
    const bp_config *c = d->c;
    size_t L = m->n_layers, k = 0;
    double g2 = 0, w2 = 0, u2 = 0, p2 = 0, s2 = 0;
    for (size_t i = 0; i < d->np; i++) {
        double g = d->seen ? d->gsum[i] / (double)d->seen : NAN, w = m->params[i];
        g2 += g * g;
        w2 += w * w;
        u2 += (w - d->wprev[i]) * (w - d->wprev[i]);
        p2 += d->wprev[i] * d->wprev[i];
        s2 += (w - d->w0[i]) * (w - d->w0[i]);
    }
    double *sat = bp_xcalloc(2 * L, sizeof *sat, e);
    if (!sat)
        return BP_ENOMEM;
    double *dead = sat + L;
    activity(d, m, sat, dead);
    if (c->diagnostics.grad_norm)
        extra[k++] = sqrt(g2);
    if (c->diagnostics.weight_norm)
        extra[k++] = sqrt(w2);
    if (c->diagnostics.update_ratio)
        extra[k++] = p2 > 0 ? sqrt(u2 / p2) : NAN;
    if (c->diagnostics.distance)
        extra[k++] = sqrt(s2);
    d->last_sat_max = NAN;
    for (size_t i = 0; i < d->n_sat; i++) {
        int l = d->sat_layer[i];
        if (c->diagnostics.saturation)
            extra[k++] = sat[l];
        if ((size_t)l + 1 < L && !isnan(sat[l]) && !(d->last_sat_max >= sat[l]))
            d->last_sat_max = sat[l];
    }
    for (size_t i = 0; i < d->n_dead; i++)
        extra[k++] = dead[d->dead_layer[i]];
    free(sat);
    int W = c->diagnostics.plateau_window;
    if (W > 0) {
        d->loss_hist[(size_t)epoch % (size_t)(W + 1)] = loss;
        double flag = 0;
        if (epoch > W) {
            double old = d->loss_hist[(size_t)(epoch - W) % (size_t)(W + 1)];
            double rel = (old - loss) / fmax(fabs(old), 1e-12);
            flag = rel < c->diagnostics.plateau_tol ? 1 : 0;
        }
        d->plateau_run = flag ? d->plateau_run + 1 : 0;
        extra[k++] = flag;
    }
    if (c->diagnostics.hessian_at == BP_HESSIAN_EVERY) {
        double lmax = NAN, lmin = NAN, tr = NAN;
        if (epoch % c->diagnostics.hessian_every == 0 && isfinite(loss)) {
            bp_curvature cv;
            bp_err e2;
            int rc = bp_curvature_measure(d->hvp, d->train, c->diagnostics.lanczos_steps,
                                          c->diagnostics.trace_samples, d->seed, d->trial,
                                          (uint64_t)epoch, &cv, &e2);
            if (rc == BP_ENOMEM)
                return bp_err_set(e, rc, "%s", e2.msg);
            if (rc == 0) {
                lmax = cv.lambda_max;
                lmin = cv.lambda_min;
                tr = cv.trace;
            }
        }
        extra[k++] = lmax;
        extra[k++] = lmin;
        extra[k++] = tr;
    }
    for (size_t i = 0; i < d->np; i++)
        d->wprev[i] = m->params[i];
    memset(d->gsum, 0, d->np * sizeof *d->gsum);
    d->seen = 0;
    return BP_OK;
}

/* Full-batch gradient norm and mean loss through the float training path (Hessian off). */
static void float_grad(bp_diag_run *d, const bp_model *m, double *gn, double *loss)
{
    bp_work *w = d->work;
    size_t n = d->train->n;
    double *acc = calloc(d->np, sizeof *acc), ls = 0;
    if (!acc) {
        *gn = *loss = NAN;
        return;
    }
    for (size_t first = 0; first < n; first += w->cap) {
        size_t nb = n - first < w->cap ? n - first : w->cap;
        bp_gather(w, d->train, NULL, first, nb);
        bp_forward(m, w, w->Xb, nb, d->nthreads);
        ls += bp_loss_batch(m, w, d->train, nb, NULL, 1);
        bp_backward(m, w, w->Xb, nb, d->gf, d->nthreads);
        for (size_t i = 0; i < d->np; i++)
            acc[i] += (double)nb * d->gf[i];
    }
    double g2 = 0;
    for (size_t i = 0; i < d->np; i++)
        g2 += (acc[i] / (double)n) * (acc[i] / (double)n);
    free(acc);
    *gn = sqrt(g2);
    *loss = ls / (double)n;
}

/* The descent probe: from the model's weights w_0, K steps of full-batch gradient descent on
 * the mean training loss, in double (bp_hvp_eval). A step t is taken when
 * L(w - t g) <= L(w) - t/2 ||g||^2 (Armijo); t starts at 1, doubles after a step taken and
 * halves after one refused, down to 1e-12 (a non-finite loss is a refusal). With the scale
 * S = max(L_0, PROBE_FLOOR * L(initial weights)) (a loss a ten-thousandth of the initial one is as
 * good as zero: an exact fit is a minimum, whatever its last digits do): drop =
 * (L_0 - L_K) / S, growth = ||w_K|| - ||w_0||, radial = (L_0 - L((1 + PROBE_RADIAL) w_0)) / S,
 * whether the loss falls when every weight grows (a fall far above the float rounding of the
 * activations, which hides the probe's own steps once a loss is tiny). Returns 0 or
 * BP_ENOMEM. */
#define PROBE_RADIAL 0.01
#define PROBE_FLOOR 1e-4
static int descent_probe(bp_diag_run *d, const bp_model *m, int K, double *drop, double *growth,
                         double *radial, bp_err *e)
{
    size_t np = d->np, n = d->train->n;
    double *buf = malloc(4 * np * sizeof *buf);
    if (!buf)
        return bp_err_set(e, BP_ENOMEM, "out of memory for the descent probe");
    double *w = buf, *g = w + np, *wn = g + np, *gn = wn + np, l0, l, ln, t = 1;
    for (size_t i = 0; i < np; i++)
        w[i] = (double)m->params[i];
    bp_err pe;
    *drop = *growth = *radial = NAN;
    double linit, sc = 0;
    if (bp_hvp_eval(d->hvp, d->w0, d->train, NULL, n, NULL, NULL, NULL, &linit, &pe) != 0)
        linit = 0;
    if (bp_hvp_eval(d->hvp, w, d->train, NULL, n, NULL, NULL, g, &l0, &pe) == 0) {
        sc = l0 > PROBE_FLOOR * linit ? l0 : PROBE_FLOOR * linit;
        for (size_t i = 0; i < np; i++)
            wn[i] = (1 + PROBE_RADIAL) * w[i];
        if (bp_hvp_eval(d->hvp, wn, d->train, NULL, n, NULL, NULL, NULL, &ln, &pe) == 0)
            *radial = sc > 0 ? (l0 - ln) / sc : 0;
        l = l0;
        for (int k = 0; k < K; k++) {
            double g2 = 0;
            for (size_t i = 0; i < np; i++)
                g2 += g[i] * g[i];
            int taken = 0;
            while (g2 > 0 && t >= 1e-12) {
                for (size_t i = 0; i < np; i++)
                    wn[i] = w[i] - t * g[i];
                if (bp_hvp_eval(d->hvp, wn, d->train, NULL, n, NULL, NULL, gn, &ln, &pe) == 0 &&
                    ln <= l - 0.5 * t * g2) {
                    taken = 1;
                    break;
                }
                t /= 2;
            }
            if (!taken)
                break;
            double *sw = w, *sg = g;
            w = wn, g = gn, wn = sw, gn = sg;
            l = ln;
            t *= 2;
        }
        double n0 = 0, n1 = 0;
        for (size_t i = 0; i < np; i++) {
            n0 += (double)m->params[i] * (double)m->params[i];
            n1 += w[i] * w[i];
        }
        *drop = sc > 0 ? (l0 - l) / sc : 0;
        *growth = sqrt(n1) - sqrt(n0);
    }
    free(buf);
    return 0;
}

int bp_diag_run_finish(bp_diag_run *d, const bp_model *m, int diverged, int epoch,
                       bp_diag_result *r, bp_err *e)
{
    const bp_config *c = d->c;
    r->curv = (bp_curvature){ NAN, NAN, NAN, NAN, NAN, NAN };
    r->max_hidden_sat = d->last_sat_max;
    r->plateau_epochs = d->plateau_run;
    r->ritz = NULL;
    r->n_ritz = 0;
    if (!diverged) {
        if (d->hvp) {
            bp_err e2;
            int rc = bp_curvature_measure_ritz(d->hvp, d->train, c->diagnostics.lanczos_steps,
                                               c->diagnostics.trace_samples, d->seed, d->trial,
                                               (uint64_t)epoch, &r->curv, d->ritz, &r->n_ritz,
                                               &e2);
            if (r->n_ritz > 0)
                r->ritz = d->ritz;
            if (rc == BP_ENOMEM)
                return bp_err_set(e, rc, "%s", e2.msg);
            if (rc)
                diverged = 1;
        } else {
            float_grad(d, m, &r->curv.grad_norm, &r->curv.loss);
        }
    }
    const bp_curvature *cv = &r->curv;
    double gt = c->diagnostics.verdict.grad_tol;
    r->probe_drop = r->probe_growth = r->probe_radial = NAN;
    if (!diverged && d->hvp && c->diagnostics.verdict.probe_steps > 0 && isfinite(cv->loss)) {
        int rc = descent_probe(d, m, c->diagnostics.verdict.probe_steps, &r->probe_drop,
                               &r->probe_growth, &r->probe_radial, e);
        if (rc)
            return rc;
    }
    int saddle = d->hvp && !isnan(cv->lambda_max) &&
                 cv->lambda_min < -c->diagnostics.verdict.eig_tol * fabs(cv->lambda_max) &&
                 cv->lambda_min < -c->diagnostics.verdict.flat_tol;
    double pt = c->diagnostics.verdict.probe_tol; /* comparisons with NaN are false */
    if (diverged || !isfinite(cv->loss) || !isfinite(cv->grad_norm)) {
        r->verdict = BP_VERDICT_DIVERGED;
    } else if (r->probe_radial > pt) { /* the loss falls as the weights grow: towards infinity */
        r->verdict = BP_VERDICT_DESCENDING;
    } else if (cv->grad_norm <= gt && saddle) {
        r->verdict = BP_VERDICT_SADDLE;
    } else if (r->probe_drop > pt) {
        r->verdict = BP_VERDICT_DESCENDING;
    } else if (cv->grad_norm <= gt) {
        if (!d->hvp || isnan(cv->lambda_max))
            r->verdict = BP_VERDICT_STATIONARY;
        else if (cv->lambda_max <= c->diagnostics.verdict.flat_tol)
            r->verdict = BP_VERDICT_PLATEAU;
        else
            r->verdict = BP_VERDICT_MINIMUM;
    } else if (!isnan(r->max_hidden_sat) && r->max_hidden_sat >= c->diagnostics.verdict.saturated) {
        r->verdict = BP_VERDICT_SATURATED;
    } else if (r->plateau_epochs > 0) {
        r->verdict = BP_VERDICT_PLATEAU;
    } else {
        r->verdict = BP_VERDICT_NOT_CONVERGED;
    }
    return BP_OK;
}

int bp_diag_run_path(bp_diag_run *d, const bp_model *m, double *alpha, double *loss, bp_err *e)
{
    int K = d->c->diagnostics.path_points;
    if (K < 2)
        return 0;
    double x = d->c->diagnostics.path_extend;
    size_t bytes = (d->np * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (!p)
        return bp_err_set(e, BP_ENOMEM, "out of memory for the path of %zu parameters", d->np);
    bp_model at = *m;
    at.params = p;
    for (int k = 0; k < K; k++) {
        double a = -x + (double)k * (1.0 + 2.0 * x) / (double)(K - 1);
        for (size_t i = 0; i < d->np; i++)
            p[i] = (float)(d->w0[i] + a * ((double)m->params[i] - d->w0[i]));
        double acc;
        bp_evaluate(&at, d->work, d->train, d->nthreads, &loss[k], &acc);
        alpha[k] = a;
    }
    free(p);
    return K;
}
