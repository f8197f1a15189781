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
                         &c->lambda_max, NULL, NULL, e)) != 0)
        return rc;
    if (trace_samples > 0)
        rc = bp_hutchinson(apply_hvp, &o, np, trace_samples, seed, trial, at, &c->trace,
                           &c->trace_se, e);
    return rc;
}
