/* Deterministic dense kernels. Each output element is an independent chain of float
 * operations whose order depends only on the element's absolute position, never on the
 * thread count: work is divided into fixed tiles in absolute index space. */
#include "autoconf.h"
#include "kernels.h"

#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wpsabi"


/* below this many multiply-adds a kernel runs on the calling thread */
#define BP_PAR_MIN_WORK (1u << 19)

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

/* Each product has a tile function per instruction set level, generated from one macro body;
 * only the tile shape (register blocking) differs, never the operations on an element, so
 * every level, tile shape and thread count gives the same bits (-std=c11 keeps
 * -ffp-contract=off: no fused multiply-adds). x86-64-v4 (AVX-512: 32 vector registers) uses
 * larger tiles than x86-64-v3 (AVX2+FMA, 16) and the portable build. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__) && !defined(BP_NO_CLONES)
#define BP_V4 __attribute__((target("arch=x86-64-v4")))
#define BP_V3 __attribute__((target("arch=x86-64-v3")))
#define BP_LEVELS 1
#else
#define BP_LEVELS 0
#endif

typedef struct tile_shape {
    size_t ti, tj;
} tile_shape;

/* ---- C = A B^T + bias: dot products; tiles of TI rows of A x TJ rows of B ----
 * Element (i, j): 8 lane sums over p < k8 (p ascending), hsum8, the tail p >= k8, + bias. */

#define NT_TILE(NAME, TI, TJ, ATTR)                                                             \
    ATTR static void NAME(size_t i0, size_t ni, size_t j0, size_t nj, size_t k, const float *A, \
                          size_t lda, const float *B, size_t ldb, const float *bias, float *C,  \
                          size_t ldc)                                                           \
    {                                                                                           \
        size_t k8 = k & ~(size_t)7;                                                             \
        v8 acc[TI][TJ];                                                                         \
        memset(acc, 0, sizeof acc);                                                             \
        const float *a[TI], *b[TJ];                                                             \
        _Pragma("GCC unroll 32")                                                                 \
        for (size_t i = 0; i < TI; i++)                                                         \
            a[i] = A + (i0 + (i < ni ? i : 0)) * lda;                                           \
        _Pragma("GCC unroll 32")                                                                 \
        for (size_t j = 0; j < TJ; j++)                                                         \
            b[j] = B + (j0 + (j < nj ? j : 0)) * ldb;                                           \
        for (size_t p = 0; p < k8; p += 8) {                                                    \
            v8 bv[TJ];                                                                          \
            _Pragma("GCC unroll 32")                                                             \
            for (size_t j = 0; j < TJ; j++)                                                     \
                bv[j] = load8(b[j] + p);                                                        \
            _Pragma("GCC unroll 32")                                                             \
            for (size_t i = 0; i < TI; i++) {                                                   \
                v8 av = load8(a[i] + p);                                                        \
                _Pragma("GCC unroll 32")                                                         \
                for (size_t j = 0; j < TJ; j++)                                                 \
                    acc[i][j] += av * bv[j];                                                    \
            }                                                                                   \
        }                                                                                       \
        for (size_t i = 0; i < ni; i++)                                                         \
            for (size_t j = 0; j < nj; j++) {                                                   \
                float s = hsum8(acc[i][j]);                                                     \
                for (size_t p = k8; p < k; p++)                                                 \
                    s += a[i][p] * b[j][p];                                                     \
                if (bias)                                                                       \
                    s += bias[j0 + j];                                                          \
                C[(i0 + i) * ldc + j0 + j] = s;                                                 \
            }                                                                                   \
    }

typedef void nt_fn(size_t, size_t, size_t, size_t, size_t, const float *, size_t, const float *,
                   size_t, const float *, float *, size_t);

NT_TILE(nt_tile, 2, 4, )
#if BP_LEVELS
NT_TILE(nt_tile_v3, 2, 4, BP_V3)
NT_TILE(nt_tile_v4, 4, 4, BP_V4)
#endif

/* ---- C[i][:] = alpha * sum_p a(i,p) * B[p][:]: axpy form, used by both TN and NN ----
 * a(i,p) = A[p*sa_p + i*sa_i]. Element (i, j): acc += a(i,p) * B[p][j] for p ascending, then
 * alpha * acc. Full tiles keep TI x TJ accumulators in registers; edge tiles use a scalar loop
 * with the same operations. */

#define AX_MAXI 8
#define AX_MAXJ 64

static void axpy_edge(size_t i0, size_t ni, size_t j0, size_t nj, size_t k, float alpha,
                      const float *A, size_t sa_i, size_t sa_p, const float *B, size_t ldb,
                      float *C, size_t ldc)
{
    float acc[AX_MAXI][AX_MAXJ];
    for (size_t i = 0; i < ni; i++)
        for (size_t j = 0; j < nj; j++)
            acc[i][j] = 0.0f;
    for (size_t p = 0; p < k; p++) {
        const float *b = B + p * ldb + j0;
        for (size_t i = 0; i < ni; i++) {
            float av = A[p * sa_p + (i0 + i) * sa_i];
            for (size_t j = 0; j < nj; j++)
                acc[i][j] += av * b[j];
        }
    }
    for (size_t i = 0; i < ni; i++) {
        float *c = C + (i0 + i) * ldc + j0;
        for (size_t j = 0; j < nj; j++)
            c[j] = alpha * acc[i][j];
    }
}

#define AX_TILE(NAME, TI, TJ, ATTR)                                                             \
    ATTR static void NAME(size_t i0, size_t ni, size_t j0, size_t nj, size_t k, float alpha,    \
                          const float *A, size_t sa_i, size_t sa_p, const float *B, size_t ldb, \
                          float *C, size_t ldc)                                                 \
    {                                                                                           \
        if (ni != TI || nj != TJ) {                                                             \
            axpy_edge(i0, ni, j0, nj, k, alpha, A, sa_i, sa_p, B, ldb, C, ldc);                 \
            return;                                                                             \
        }                                                                                       \
        v8 acc[TI][TJ / 8];                                                                     \
        memset(acc, 0, sizeof acc);                                                             \
        const float *a = A + i0 * sa_i;                                                         \
        for (size_t p = 0; p < k; p++) {                                                        \
            const float *b = B + p * ldb + j0;                                                  \
            v8 bv[TJ / 8];                                                                      \
            _Pragma("GCC unroll 32")                                                             \
            for (size_t jj = 0; jj < TJ / 8; jj++)                                              \
                bv[jj] = load8(b + 8 * jj);                                                     \
            _Pragma("GCC unroll 32")                                                             \
            for (size_t i = 0; i < TI; i++) {                                                   \
                float s = a[p * sa_p + i * sa_i];                                               \
                v8 av = { s, s, s, s, s, s, s, s };                                             \
                _Pragma("GCC unroll 32")                                                         \
                for (size_t jj = 0; jj < TJ / 8; jj++)                                          \
                    acc[i][jj] += av * bv[jj];                                                  \
            }                                                                                   \
        }                                                                                       \
        v8 al = { alpha, alpha, alpha, alpha, alpha, alpha, alpha, alpha };                     \
        _Pragma("GCC unroll 32")                                                                 \
        for (size_t i = 0; i < TI; i++)                                                         \
            _Pragma("GCC unroll 32")                                                             \
            for (size_t jj = 0; jj < TJ / 8; jj++)                                              \
                store8(C + (i0 + i) * ldc + j0 + 8 * jj, al * acc[i][jj]);                      \
    }

typedef void ax_fn(size_t, size_t, size_t, size_t, size_t, float, const float *, size_t, size_t,
                   const float *, size_t, float *, size_t);

AX_TILE(axpy_tile, 4, 16, )
#if BP_LEVELS
AX_TILE(axpy_tile_v3, 4, 16, BP_V3)
AX_TILE(axpy_tile_v4, 6, 32, BP_V4)
#endif

/* 2: x86-64-v4, 1: x86-64-v3, 0: the portable build */
static int cpu_level(void)
{
#if BP_LEVELS
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return 1;
#endif
    return 0;
}

static int kernel_level(void)
{
    const char *v = getenv("BPRUN_KERNEL_LEVEL"); /* testing: force a lower level */
    int l = cpu_level();
    if (v && *v >= '0' && *v <= '2' && !v[1] && *v - '0' < l)
        l = *v - '0';
    return l;
}

static void nt_pick(nt_fn **f, tile_shape *s)
{
    int l = kernel_level();
    *f = nt_tile;
    *s = (tile_shape){ 2, 4 };
#if BP_LEVELS
    if (l == 2) {
        *f = nt_tile_v4;
        *s = (tile_shape){ 4, 4 };
    } else if (l == 1)
        *f = nt_tile_v3;
#endif
    (void)l;
}

static void ax_pick(ax_fn **f, tile_shape *s)
{
    int l = kernel_level();
    *f = axpy_tile;
    *s = (tile_shape){ 4, 16 };
#if BP_LEVELS
    if (l == 2) {
        *f = axpy_tile_v4;
        *s = (tile_shape){ 6, 32 };
    } else if (l == 1)
        *f = axpy_tile_v3;
#endif
    (void)l;
}

void bp_gemm_nt(size_t m, size_t n, size_t k, const float *A, size_t lda, const float *B,
                size_t ldb, const float *bias, float *C, size_t ldc, int nthreads)
{
    nt_fn *f;
    tile_shape sh;
    nt_pick(&f, &sh);
    size_t TI = sh.ti, TJ = sh.tj;
    size_t ti = (m + TI - 1) / TI, tj = (n + TJ - 1) / TJ;
    long tiles = (long)(ti * tj);
    int nt = threads_for(m * n * k, nthreads);
    if (nt <= 1) {
        for (long t = 0; t < tiles; t++) {
            size_t i0 = (size_t)t / tj * TI, j0 = (size_t)t % tj * TJ;
            f(i0, m - i0 < TI ? m - i0 : TI, j0, n - j0 < TJ ? n - j0 : TJ, k, A, lda, B, ldb,
              bias, C, ldc);
        }
        return;
    }
#pragma omp parallel for schedule(static) num_threads(nt)
    for (long t = 0; t < tiles; t++) {
        size_t i0 = (size_t)t / tj * TI, j0 = (size_t)t % tj * TJ;
        f(i0, m - i0 < TI ? m - i0 : TI, j0, n - j0 < TJ ? n - j0 : TJ, k, A, lda, B, ldb, bias,
          C, ldc);
    }
}

static void axpy_gemm(size_t m, size_t n, size_t k, float alpha, const float *A, size_t sa_i,
                      size_t sa_p, const float *B, size_t ldb, float *C, size_t ldc,
                      int nthreads)
{
    ax_fn *f;
    tile_shape sh;
    ax_pick(&f, &sh);
    size_t TI = sh.ti, TJ = sh.tj;
    size_t ti = (m + TI - 1) / TI, tj = (n + TJ - 1) / TJ;
    long tiles = (long)(ti * tj);
    int nt = threads_for(m * n * k, nthreads);
    if (nt <= 1) {
        for (long t = 0; t < tiles; t++) {
            size_t i0 = (size_t)t / tj * TI, j0 = (size_t)t % tj * TJ;
            f(i0, m - i0 < TI ? m - i0 : TI, j0, n - j0 < TJ ? n - j0 : TJ, k, alpha, A, sa_i,
              sa_p, B, ldb, C, ldc);
        }
        return;
    }
#pragma omp parallel for schedule(static) num_threads(nt)
    for (long t = 0; t < tiles; t++) {
        size_t i0 = (size_t)t / tj * TI, j0 = (size_t)t % tj * TJ;
        f(i0, m - i0 < TI ? m - i0 : TI, j0, n - j0 < TJ ? n - j0 : TJ, k, alpha, A, sa_i, sa_p,
          B, ldb, C, ldc);
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
