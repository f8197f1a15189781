/* bench-hvp: the cost of one Hessian-vector product (src/hvp.c) relative to one training
 * gradient (bp_forward + bp_loss_batch + bp_backward, float kernels), CPU time, one thread.
 *   scripts/bench-hvp [SIZES [ROWS [REPS]]]     e.g. scripts/bench-hvp 32,64,64,10 256 30
 * Hidden layers tanh, softmax cross-entropy output. Built by `make check` (not run by it);
 * the plugins are found through BPRUN_PLUGIN_PATH (e.g. plugins/.libs of the build tree).
 * Prints the best of 5 rounds of REPS calls each:
 *   gradient    the training gradient over ROWS rows
 *   hv+grad     one bp_hvp_eval with v and the gradient (forward pass computed)
 *   hv          bp_hvp_eval with v alone after it (forward pass reused: Lanczos' calls)
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backprop.h"
#include "hvp.h"
#include "model.h"
#include "plugin.h"
#include "rng.h"

static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    const char *spec = argc > 1 ? argv[1] : "32,64,64,10";
    size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 256;
    int reps = argc > 3 ? atoi(argv[3]) : 30;
    int sizes[16];
    size_t ns = 0;
    for (const char *p = spec; *p && ns < 16;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1) {
            fprintf(stderr, "bench-hvp: bad layer sizes '%s' (want e.g. 32,64,64,10)\n", spec);
            return 2;
        }
        sizes[ns++] = (int)v;
        p = *end == ',' ? end + 1 : end;
    }
    if (ns < 2 || n < 1 || reps < 1) {
        fprintf(stderr, "usage: bench-hvp [SIZES [ROWS [REPS]]]\n");
        return 2;
    }
    bp_err e;
    bp_registry *reg = bp_registry_new(NULL, 0, &e);
    const bp_loaded *tanh_p = reg ? bp_registry_get(reg, "tanh", BP_ACTIVATION, &e) : NULL;
    if (!tanh_p) {
        fprintf(stderr, "bench-hvp: %s\n", e.msg);
        return 1;
    }
    bp_model *m = bp_model_new(sizes, ns, &e);
    if (!m) {
        fprintf(stderr, "bench-hvp: %s\n", e.msg);
        return 1;
    }
    bp_model_init(m, BP_INIT_XAVIER_UNIFORM, 0, 1, 9, 0);
    for (size_t l = 0; l + 1 < m->n_layers; l++) {
        m->act[l].name = "tanh";
        m->act[l].fn = tanh_p->desc->u.activation;
    }
    m->act[m->n_layers - 1].name = "softmax";
    m->softmax = 1;
    m->loss = BP_LOSS_CROSS_ENTROPY;
    size_t d_in = (size_t)sizes[0], k = (size_t)sizes[ns - 1], np = m->n_params;
    float *X = calloc(n * d_in, sizeof *X), *gf = calloc(np, sizeof *gf);
    int32_t *y = calloc(n, sizeof *y);
    double *v = calloc(np, sizeof *v), *hv = calloc(np, sizeof *hv), *g = calloc(np, sizeof *g);
    bp_work *w = bp_work_new(m, n, &e);
    bp_hvp *h = w ? bp_hvp_new(m, n, &e) : NULL;
    if (!X || !gf || !y || !v || !hv || !g || !h) {
        fprintf(stderr, "bench-hvp: out of memory\n");
        return 1;
    }
    bp_rng r = bp_rng_stream(1, 0, BP_RNG_INIT, 0);
    for (size_t i = 0; i < n * d_in; i++)
        X[i] = (float)bp_rng_normal(&r);
    for (size_t i = 0; i < n; i++)
        y[i] = (int32_t)(i % k);
    for (size_t i = 0; i < np; i++)
        v[i] = bp_rng_normal(&r);
    bp_dataset d = { .n = n, .d = d_in, .X = X, .k = k, .kind = BP_TARGET_LABELS, .y = y };
    double best[3] = { 1e30, 1e30, 1e30 };
    for (int round = 0; round < 5; round++) {
        double t0 = cpu();
        for (int i = 0; i < reps; i++) {
            bp_gather(w, &d, NULL, 0, n);
            bp_forward(m, w, w->Xb, n, 1);
            bp_loss_batch(m, w, &d, n, NULL, 1);
            bp_backward(m, w, w->Xb, n, gf, 1);
        }
        double t1 = cpu();
        for (int i = 0; i < reps; i++)
            bp_hvp_eval(h, NULL, &d, NULL, n, v, hv, g, NULL, &e);
        double t2 = cpu();
        bp_hvp_eval(h, NULL, &d, NULL, n, v, hv, NULL, NULL, &e); /* fills the cache */
        double t3 = cpu();
        for (int i = 0; i < reps; i++)
            bp_hvp_eval(h, NULL, &d, NULL, n, v, hv, NULL, NULL, &e);
        double t4 = cpu(), t[3] = { t1 - t0, t2 - t1, t4 - t3 };
        for (int q = 0; q < 3; q++)
            best[q] = t[q] < best[q] ? t[q] : best[q];
    }
    printf("model %s, tanh hidden, softmax cross-entropy, %zu rows, %zu parameters, 1 thread, "
           "CPU time per call (best of 5 x %d):\n", spec, n, np, reps);
    printf("  gradient (float kernels)      %9.3f ms\n", 1e3 * best[0] / reps);
    printf("  hv+grad  (forward computed)   %9.3f ms  = %.2fx the gradient\n",
           1e3 * best[1] / reps, best[1] / best[0]);
    printf("  hv       (forward reused)     %9.3f ms  = %.2fx the gradient\n",
           1e3 * best[2] / reps, best[2] / best[0]);
    free(X); free(gf); free(y); free(v); free(hv); free(g);
    bp_hvp_free(h);
    bp_work_free(w);
    bp_model_free(m);
    bp_registry_free(reg);
    return 0;
}
