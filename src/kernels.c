/* Deterministic dense kernels. Each output element is an independent chain of float
 * operations whose order depends only on the element's absolute position, never on the
 * thread count: work is divided into fixed tiles in absolute index space. */
#include "autoconf.h"
#include "kernels.h"

#include <string.h>

#pragma GCC diagnostic ignored "-Wpsabi"

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__) && !defined(BP_NO_CLONES)
/* one build for generic x86-64 and one for AVX2+FMA machines, picked at load time */
#define BP_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define BP_CLONES
#endif

/* below this many multiply-adds a kernel runs on the calling thread */
#define BP_PAR_MIN_WORK (1u << 15)

typedef float v8 __attribute__((vector_size(32), aligned(4)));

static inline v8 load8(const float *p)
{
    v8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void store8(float *p, v8 v)
{
    memcpy(p, &v, sizeof v);
}

/* fixed lane order: ((0+4)+(2+6)) + ((1+5)+(3+7)) */
static inline float hsum8(v8 v)
{
    float a = v[0] + v[4], b = v[2] + v[6], c = v[1] + v[5], d = v[3] + v[7];
    return (a + b) + (c + d);
}

static inline int threads_for(size_t work, int nthreads)
{
    return work < BP_PAR_MIN_WORK ? 1 : nthreads;
}

/* ---- C = A B^T + bias: dot products; tiles of 2 rows of A x 4 rows of B ---- */

#define NT_TI 2
#define NT_TJ 4

BP_CLONES
static void nt_tile(size_t i0, size_t ni, size_t j0, size_t nj, size_t k, const float *A,
                    size_t lda, const float *B, size_t ldb, const float *bias, float *C,
                    size_t ldc)
{
    size_t k8 = k & ~(size_t)7;
    v8 acc[NT_TI][NT_TJ];
    memset(acc, 0, sizeof acc);
    const float *a[NT_TI], *b[NT_TJ];
    for (size_t i = 0; i < NT_TI; i++)
        a[i] = A + (i0 + (i < ni ? i : 0)) * lda;
    for (size_t j = 0; j < NT_TJ; j++)
        b[j] = B + (j0 + (j < nj ? j : 0)) * ldb;
    for (size_t p = 0; p < k8; p += 8) {
        v8 bv[NT_TJ];
        for (size_t j = 0; j < NT_TJ; j++)
            bv[j] = load8(b[j] + p);
        for (size_t i = 0; i < NT_TI; i++) {
            v8 av = load8(a[i] + p);
            for (size_t j = 0; j < NT_TJ; j++)
                acc[i][j] += av * bv[j];
        }
    }
    for (size_t i = 0; i < ni; i++)
        for (size_t j = 0; j < nj; j++) {
            float s = hsum8(acc[i][j]);
            for (size_t p = k8; p < k; p++)
                s += a[i][p] * b[j][p];
            if (bias)
                s += bias[j0 + j];
            C[(i0 + i) * ldc + j0 + j] = s;
        }
}

void bp_gemm_nt(size_t m, size_t n, size_t k, const float *A, size_t lda, const float *B,
                size_t ldb, const float *bias, float *C, size_t ldc, int nthreads)
{
    size_t ti = (m + NT_TI - 1) / NT_TI, tj = (n + NT_TJ - 1) / NT_TJ;
    long tiles = (long)(ti * tj);
    int nt = threads_for(m * n * k, nthreads);
    if (nt <= 1) {
        for (long t = 0; t < tiles; t++) {
            size_t i0 = (size_t)t / tj * NT_TI, j0 = (size_t)t % tj * NT_TJ;
            nt_tile(i0, m - i0 < NT_TI ? m - i0 : NT_TI, j0, n - j0 < NT_TJ ? n - j0 : NT_TJ, k,
                    A, lda, B, ldb, bias, C, ldc);
        }
        return;
    }
#pragma omp parallel for schedule(static) num_threads(nt)
    for (long t = 0; t < tiles; t++) {
        size_t i0 = (size_t)t / tj * NT_TI, j0 = (size_t)t % tj * NT_TJ;
        nt_tile(i0, m - i0 < NT_TI ? m - i0 : NT_TI, j0, n - j0 < NT_TJ ? n - j0 : NT_TJ, k, A,
                lda, B, ldb, bias, C, ldc);
    }
}

/* ---- C[i][:] = alpha * sum_p a(i,p) * B[p][:]: axpy form, used by both TN and NN ----
 * a(i,p) = A[p*sa_p + i*sa_i]. Tiles of 4 rows x 64 columns; p ascending for every element. */

#define AX_TI 4
#define AX_TJ 64

BP_CLONES
static void axpy_tile(size_t i0, size_t ni, size_t j0, size_t nj, size_t k, float alpha,
                      const float *A, size_t sa_i, size_t sa_p, const float *B, size_t ldb,
                      float *C, size_t ldc)
{
    float acc[AX_TI][AX_TJ] __attribute__((aligned(32)));
    memset(acc, 0, sizeof acc);
    for (size_t p = 0; p < k; p++) {
        const float *b = B + p * ldb + j0;
        float av[AX_TI];
        for (size_t i = 0; i < AX_TI; i++)
            av[i] = i < ni ? A[p * sa_p + (i0 + i) * sa_i] : 0.0f;
        if (nj == AX_TJ) {
            for (size_t jj = 0; jj < AX_TJ; jj += 8) {
                v8 bv = load8(b + jj);
                for (size_t i = 0; i < AX_TI; i++) {
                    v8 c;
                    memcpy(&c, &acc[i][jj], sizeof c);
                    c += av[i] * bv;
                    memcpy(&acc[i][jj], &c, sizeof c);
                }
            }
        } else {
            for (size_t i = 0; i < AX_TI; i++)
                for (size_t j = 0; j < nj; j++)
                    acc[i][j] += av[i] * b[j];
        }
    }
    for (size_t i = 0; i < ni; i++) {
        float *c = C + (i0 + i) * ldc + j0;
        for (size_t j = 0; j < nj; j++)
            c[j] = alpha * acc[i][j];
    }
}

static void axpy_gemm(size_t m, size_t n, size_t k, float alpha, const float *A, size_t sa_i,
                      size_t sa_p, const float *B, size_t ldb, float *C, size_t ldc,
                      int nthreads)
{
    size_t ti = (m + AX_TI - 1) / AX_TI, tj = (n + AX_TJ - 1) / AX_TJ;
    long tiles = (long)(ti * tj);
    int nt = threads_for(m * n * k, nthreads);
    if (nt <= 1) {
        for (long t = 0; t < tiles; t++) {
            size_t i0 = (size_t)t / tj * AX_TI, j0 = (size_t)t % tj * AX_TJ;
            axpy_tile(i0, m - i0 < AX_TI ? m - i0 : AX_TI, j0, n - j0 < AX_TJ ? n - j0 : AX_TJ, k,
                      alpha, A, sa_i, sa_p, B, ldb, C, ldc);
        }
        return;
    }
#pragma omp parallel for schedule(static) num_threads(nt)
    for (long t = 0; t < tiles; t++) {
        size_t i0 = (size_t)t / tj * AX_TI, j0 = (size_t)t % tj * AX_TJ;
        axpy_tile(i0, m - i0 < AX_TI ? m - i0 : AX_TI, j0, n - j0 < AX_TJ ? n - j0 : AX_TJ, k,
                  alpha, A, sa_i, sa_p, B, ldb, C, ldc);
    }
}

void bp_gemm_tn(size_t m, size_t n, size_t k, float alpha, const float *A, size_t lda,
                const float *B, size_t ldb, float *C, size_t ldc, int nthreads)
{
    axpy_gemm(m, n, k, alpha, A, 1, lda, B, ldb, C, ldc, nthreads);
}

void bp_gemm_nn(size_t m, size_t n, size_t k, const float *A, size_t lda, const float *B,
                size_t ldb, float *C, size_t ldc, int nthreads)
{
    axpy_gemm(m, n, k, 1.0f, A, lda, 1, B, ldb, C, ldc, nthreads);
}

void bp_colsum(size_t m, size_t n, float alpha, const float *A, size_t lda, float *out)
{
    for (size_t j = 0; j < n; j++)
        out[j] = 0.0f;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++)
            out[j] += A[i * lda + j];
    for (size_t j = 0; j < n; j++)
        out[j] *= alpha;
}

double bp_sumsq(const float *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return s;
}

const char *bp_kernels_name(void)
{
    return "builtin";
}
