/* bench-sgemm: OpenBLAS sgemm peak on this machine (large square products, 1 and 2 threads,
 * OpenBLAS's own threading) and bprun's three products of one W3 training step (784-256-128-10,
 * batch 256 and 64) through bp_gemm_* at 1 and 2 threads, as GFLOP/s of wall time and the
 * fraction of the 1-thread (or 2-thread) sgemm peak. Built and run by `scripts/bench --sgemm`
 * against the build tree's libbprun (docs/PERFORMANCE.md). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kernels.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *rnd(size_t n)
{
    float *p = malloc(n * sizeof *p);
    if (!p) {
        fprintf(stderr, "bench-sgemm: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        p[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    return p;
}

/* best of 5 runs of about 0.3 s each */
static double sgemm_peak(int n, int threads)
{
    openblas_set_num_threads(threads);
    float *A = rnd((size_t)n * n), *B = rnd((size_t)n * n), *C = rnd((size_t)n * n);
    double fl = 2.0 * n * n * n, best = 0;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1, A, n, B, n, 0, C, n);
    for (int r = 0; r < 5; r++) {
        int reps = 0;
        double t0 = now(), t;
        do {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1, A, n, B, n, 0, C, n);
            reps++;
        } while ((t = now() - t0) < 0.3);
        if (fl * reps / t / 1e9 > best)
            best = fl * reps / t / 1e9;
    }
    free(A);
    free(B);
    free(C);
    openblas_set_num_threads(1);
    return best;
}

/* one W3 step's products: forward nt per layer, backward tn per layer and nn for l > 0 */
static double w3_step(size_t nb, int threads, double *flops)
{
    static const size_t sz[] = { 784, 256, 128, 10 };
    float *X = rnd(nb * 784), *W[3], *Z[3], *D[3], *G[3];
    for (int l = 0; l < 3; l++) {
        W[l] = rnd(sz[l + 1] * sz[l]);
        Z[l] = rnd(nb * sz[l + 1]);
        D[l] = rnd(nb * sz[l + 1]);
        G[l] = rnd(sz[l + 1] * sz[l]);
    }
    double fl = 0;
    for (int l = 0; l < 3; l++)
        fl += 2.0 * nb * sz[l] * sz[l + 1] * (l ? 3 : 2);
    *flops = fl;
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        int reps = 0;
        double t0 = now(), t;
        do {
            for (int l = 0; l < 3; l++)
                bp_gemm_nt(nb, sz[l + 1], sz[l], l ? Z[l - 1] : X, sz[l], W[l], sz[l], NULL, Z[l],
                           sz[l + 1], threads);
            for (int l = 2; l >= 0; l--) {
                bp_gemm_tn(sz[l + 1], sz[l], nb, 1.0f / (float)nb, D[l], sz[l + 1],
                           l ? Z[l - 1] : X, sz[l], G[l], sz[l], threads);
                if (l)
                    bp_gemm_nn(nb, sz[l], sz[l + 1], D[l], sz[l + 1], W[l], sz[l], D[l - 1],
                               sz[l], threads);
            }
            reps++;
        } while ((t = now() - t0) < 0.3);
        if (t / reps < best)
            best = t / reps;
    }
    free(X);
    for (int l = 0; l < 3; l++) {
        free(W[l]);
        free(Z[l]);
        free(D[l]);
        free(G[l]);
    }
    return best;
}

int main(void)
{
    bp_err e = { 0 };
    if (bp_kernels_check(&e)) {
        fprintf(stderr, "bench-sgemm: %s\n", e.msg);
        return 1;
    }
    printf("kernels: %s\n", bp_kernels_name());
    double peak[3] = { 0, sgemm_peak(2048, 1), sgemm_peak(2048, 2) };
    printf("OpenBLAS sgemm 2048^3: 1 thread %.1f GFLOP/s, 2 threads %.1f GFLOP/s\n", peak[1],
           peak[2]);
    for (int b = 0; b < 2; b++) {
        size_t nb = b ? 64 : 256;
        for (int th = 1; th <= 2; th++) {
            double fl, t = w3_step(nb, th, &fl);
            printf("W3 b%zu products, %d thread%s: %.1f GFLOP/s = %.0f%% of sgemm peak at %d "
                   "thread%s (%.1f us per step)\n", nb, th, th > 1 ? "s" : "", fl / t / 1e9,
                   100 * fl / t / 1e9 / peak[th], th, th > 1 ? "s" : "", t * 1e6);
        }
    }
    return 0;
}
