/* Deterministic dense kernels. Each output element is an independent chain of float
 * operations whose order depends only on the element's absolute position, never on the
 * thread count: work is divided into fixed tiles in absolute index space. */
#include "autoconf.h"
#include "kernels.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bprun/vexp.h>

#ifdef BP_HAVE_CBLAS
#include <cblas.h>
#include <pthread.h>
#endif

#pragma GCC diagnostic ignored "-Wpsabi"


/* CBLAS path: output tile edge, and the smallest n*k (nt, nn) or m*n (tn) that uses it;
 * both measured, docs/PERFORMANCE.md */
#define BP_BLAS_ROWS 16
#define BP_BLAS_TILE 64
#define BP_BLAS_MIN_WORK 64

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

/* The tile loops are orphaned worksharing loops: inside a parallel region the team shares
 * the tiles, outside one the calling thread runs them all. */
static void nt_team(size_t m, size_t n, size_t k, const float *A, size_t lda, const float *B,
                    size_t ldb, const float *bias, float *C, size_t ldc)
{
    nt_fn *f;
    tile_shape sh;
    nt_pick(&f, &sh);
    size_t TI = sh.ti, TJ = sh.tj;
    size_t ti = (m + TI - 1) / TI, tj = (n + TJ - 1) / TJ;
    long tiles = (long)(ti * tj);
#pragma omp for schedule(static)
    for (long t = 0; t < tiles; t++) {
        size_t i0 = (size_t)t / tj * TI, j0 = (size_t)t % tj * TJ;
        f(i0, m - i0 < TI ? m - i0 : TI, j0, n - j0 < TJ ? n - j0 : TJ, k, A, lda, B, ldb, bias,
          C, ldc);
    }
}

static void ax_team(size_t m, size_t n, size_t k, float alpha, const float *A, size_t sa_i,
                    size_t sa_p, const float *B, size_t ldb, float *C, size_t ldc)
{
    ax_fn *f;
    tile_shape sh;
    ax_pick(&f, &sh);
    size_t TI = sh.ti, TJ = sh.tj;
    size_t ti = (m + TI - 1) / TI, tj = (n + TJ - 1) / TJ;
    long tiles = (long)(ti * tj);
#pragma omp for schedule(static)
    for (long t = 0; t < tiles; t++) {
        size_t i0 = (size_t)t / tj * TI, j0 = (size_t)t % tj * TJ;
        f(i0, m - i0 < TI ? m - i0 : TI, j0, n - j0 < TJ ? n - j0 : TJ, k, alpha, A, sa_i, sa_p,
          B, ldb, C, ldc);
    }
}

/* ---- the CBLAS path: fixed BP_BLAS_ROWS x BP_BLAS_TILE output tiles in absolute index
 * space, one single-threaded cblas_sgemm per tile over the whole reduction dimension; our
 * OpenMP threads take whole tiles. A tile's call (its shape and operands) does not depend on
 * the thread count, so neither do its bits. */

typedef enum { OP_NT, OP_TN, OP_NN } gemm_op;

#ifdef BP_HAVE_CBLAS
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
static int blas_single; /* 1 when OpenBLAS confirmed it runs on the calling thread only */
static char blas_name[320];

#ifdef HAVE_BLAS_THREAD_SHUTDOWN_
/* OpenBLAS's own (not in cblas.h; its fork handler calls it): joins the idle worker threads
 * that a pthread build starts when it is loaded, which otherwise spin in sched_yield on the
 * cores the trials run on for their first ~0.1 s. The pool is rebuilt only for a call that runs
 * on several threads, which bprun never makes. */
int blas_thread_shutdown_(void);
#endif

static void blas_init(void)
{
    openblas_set_num_threads(1);
    blas_single = openblas_get_num_threads() == 1;
#ifdef HAVE_BLAS_THREAD_SHUTDOWN_
    if (blas_single)
        blas_thread_shutdown_();
#endif
    int r = snprintf(blas_name, sizeof blas_name,
                     "blas: cblas_sgemm single-threaded on %dx%d output tiles where a layer has >= %d "
                     "multiply-adds per row, builtin below (%s%s%s)",
                     BP_BLAS_ROWS, BP_BLAS_TILE, BP_BLAS_MIN_WORK,
#ifdef HAVE_OPENBLAS_GET_CONFIG
                     openblas_get_config(), "; core ", openblas_get_corename()
#else
                     "CBLAS", "", ""
#endif
    );
    if (r < 0 || (size_t)r >= sizeof blas_name)
        snprintf(blas_name, sizeof blas_name, "blas: cblas_sgemm");
}

/* One output tile [i0, i0+mi) x [j0, j0+nj). For nt and nn the rows are batch rows, and
 * OpenBLAS's bits for a row depend on the M of the call (measured: M <= 9 and many odd M
 * differ from M = 64), so an edge tile of those is padded to BP_BLAS_ROWS rows with zero rows:
 * every call has M = BP_BLAS_ROWS, and a row's bits do not depend on how many rows the batch
 * has (bp_evaluate's promise). Without memory for the padding the tile runs unpadded: the
 * same bits for any thread count, only that promise is lost. */
static void blas_tile(gemm_op op, size_t i0, size_t mi, size_t j0, size_t nj, size_t k,
                      float alpha, const float *A, size_t lda, const float *B, size_t ldb,
                      const float *bias, float *C, size_t ldc)
{
    float cpad[BP_BLAS_ROWS * BP_BLAS_TILE], *apad = NULL;
    float *c = C + i0 * ldc + j0;
    const float *a = op == OP_TN ? A + i0 : A + i0 * lda;
    size_t ldcc = ldc, ldaa = lda, M = mi;
    if (op != OP_TN && mi < BP_BLAS_ROWS && k &&
        (apad = calloc(BP_BLAS_ROWS * k, sizeof *apad))) {
        for (size_t i = 0; i < mi; i++)
            memcpy(apad + i * k, a + i * lda, k * sizeof *apad);
        a = apad;
        ldaa = k;
        c = cpad;
        ldcc = nj;
        M = BP_BLAS_ROWS;
    }
    float beta = 0.0f;
    if (bias) {
        for (size_t i = 0; i < M; i++)
            memcpy(c + i * ldcc, bias + j0, nj * sizeof *c);
        beta = 1.0f;
    }
    int Mi = (int)M, N = (int)nj, K = (int)k;
    if (op == OP_NT)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Mi, N, K, alpha, a, (int)ldaa,
                    B + j0 * ldb, (int)ldb, beta, c, (int)ldcc);
    else if (op == OP_TN)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Mi, N, K, alpha, a, (int)ldaa,
                    B + j0, (int)ldb, beta, c, (int)ldcc);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Mi, N, K, alpha, a, (int)ldaa,
                    B + j0, (int)ldb, beta, c, (int)ldcc);
    if (apad) {
        for (size_t i = 0; i < mi; i++)
            memcpy(C + (i0 + i) * ldc + j0, cpad + i * nj, nj * sizeof *cpad);
        free(apad);
    }
}

static void blas_team(gemm_op op, size_t m, size_t n, size_t k, float alpha, const float *A,
                      size_t lda, const float *B, size_t ldb, const float *bias, float *C,
                      size_t ldc)
{
    size_t TI = BP_BLAS_ROWS, TJ = BP_BLAS_TILE, ti = (m + TI - 1) / TI, tj = (n + TJ - 1) / TJ;
    long tiles = (long)(ti * tj);
    /* Contiguous shares of the tiles: for tn (a gradient: rows = the layer's units) in row-major
     * order, so a thread computes whole rows of the weight gradient; for nt (columns = units)
     * in column-major order, so a thread reads only its share of the weight rows. Together with
     * opt_step's shares (train.c) a thread's weights, gradients and optimizer state stay in its
     * core's cache from step to step. The tiles, and so the bits, are the same in any order. */
    int by_cols = op == OP_NT;
#pragma omp for schedule(static)
    for (long t = 0; t < tiles; t++) {
        size_t i0 = (by_cols ? (size_t)t % ti : (size_t)t / tj) * TI,
               j0 = (by_cols ? (size_t)t / ti : (size_t)t % tj) * TJ;
        blas_tile(op, i0, m - i0 < TI ? m - i0 : TI, j0, n - j0 < TJ ? n - j0 : TJ, k, alpha, A,
                  lda, B, ldb, bias, C, ldc);
    }
}
#endif

/* 1: BPRUN_KERNELS=builtin; 0: unset or "blas"; -1: anything else */
static int env_builtin(void)
{
    const char *v = getenv("BPRUN_KERNELS");
    if (!v || !*v || strcmp(v, "blas") == 0)
        return 0;
    return strcmp(v, "builtin") == 0 ? 1 : -1;
}

/* The CBLAS path for a product whose output rows are independent of the batch size (nt, nn:
 * n x k fixed by the layer) or for the gradient (tn): chosen from the layer's sizes, so the
 * choice (and a row's bits) never depends on how many rows a batch has. */
static int use_blas(size_t layer_work)
{
#ifdef BP_HAVE_CBLAS
    if (layer_work < BP_BLAS_MIN_WORK || env_builtin() != 0)
        return 0;
    pthread_once(&blas_once, blas_init);
    return blas_single;
#else
    (void)layer_work;
    return 0;
#endif
}

int bp_kernels_blas_layer(size_t layer_work)
{
    return use_blas(layer_work);
}

/* The epilogue of a product: fn on fixed blocks of BP_EP_ROWS rows, shared by the team (an
 * orphaned worksharing loop, like the tile loops). */
#define BP_EP_ROWS 16

static void epilogue(size_t m, bp_rows_fn *fn, void *ud)
{
    long blocks = (long)((m + BP_EP_ROWS - 1) / BP_EP_ROWS);
#pragma omp for schedule(static)
    for (long b = 0; b < blocks; b++) {
        size_t i0 = (size_t)b * BP_EP_ROWS;
        fn(ud, i0, m - i0 < BP_EP_ROWS ? m - i0 : BP_EP_ROWS);
    }
}

void bp_gemm_nt(size_t m, size_t n, size_t k, const float *A, size_t lda, const float *B,
                size_t ldb, const float *bias, float *C, size_t ldc, int nthreads)
{
    bp_gemm_nt_ep(m, n, k, A, lda, B, ldb, bias, C, ldc, nthreads, NULL, NULL);
}

typedef struct product_args {
    gemm_op op;
    int blas;
    size_t m, n, k;
    float alpha;
    const float *A, *B, *bias;
    size_t lda, ldb, ldc;
    float *C;
    bp_rows_fn *fn;
    void *ud;
} product_args;

/* the tiles, then the epilogue; run by every thread of a team, or by the caller alone */
static void product_body(const product_args *p)
{
#ifdef BP_HAVE_CBLAS
    if (p->blas)
        blas_team(p->op, p->m, p->n, p->k, p->alpha, p->A, p->lda, p->B, p->ldb, p->bias, p->C,
                  p->ldc);
#endif
    if (!p->blas && p->op == OP_NT)
        nt_team(p->m, p->n, p->k, p->A, p->lda, p->B, p->ldb, p->bias, p->C, p->ldc);
    else if (!p->blas) /* the axpy form; strides of a(i,p): tn (1, lda), nn (lda, 1) */
        ax_team(p->m, p->n, p->k, p->alpha, p->A, p->op == OP_TN ? 1 : p->lda,
                p->op == OP_TN ? p->lda : 1, p->B, p->ldb, p->C, p->ldc);
    if (p->fn)
        epilogue(p->m, p->fn, p->ud);
}

/* One product and its epilogue (if any), in one parallel region when it runs on several
 * threads; serially, without entering a region, otherwise. */
static void product(gemm_op op, size_t m, size_t n, size_t k, float alpha, const float *A,
                    size_t lda, const float *B, size_t ldb, const float *bias, float *C,
                    size_t ldc, int nthreads, bp_rows_fn *fn, void *ud)
{
    product_args p = { .op = op, .m = m, .n = n, .k = k, .alpha = alpha, .A = A, .B = B,
                       .bias = bias, .lda = lda, .ldb = ldb, .ldc = ldc, .C = C, .fn = fn,
                       .ud = ud };
#ifdef BP_HAVE_CBLAS
    size_t most = m > n ? m : n; /* CBLAS takes int sizes */
    most = most > k ? most : k;
    most = most > lda ? most : lda;
    most = most > ldb ? most : ldb;
    most = most > ldc ? most : ldc;
    p.blas = m && n && most <= INT_MAX && use_blas(op == OP_TN ? m * n : n * k);
#endif
    int nt = threads_for(m * n * k, nthreads);
    if (nt <= 1) {
        product_body(&p);
        return;
    }
#pragma omp parallel num_threads(nt)
    product_body(&p);
}

void bp_gemm_nt_ep(size_t m, size_t n, size_t k, const float *A, size_t lda, const float *B,
                   size_t ldb, const float *bias, float *C, size_t ldc, int nthreads,
                   bp_rows_fn *fn, void *ud)
{
    product(OP_NT, m, n, k, 1.0f, A, lda, B, ldb, bias, C, ldc, nthreads, fn, ud);
}

void bp_gemm_nn_ep(size_t m, size_t n, size_t k, const float *A, size_t lda, const float *B,
                   size_t ldb, float *C, size_t ldc, int nthreads, bp_rows_fn *fn, void *ud)
{
    product(OP_NN, m, n, k, 1.0f, A, lda, B, ldb, NULL, C, ldc, nthreads, fn, ud);
}

void bp_gemm_tn(size_t m, size_t n, size_t k, float alpha, const float *A, size_t lda,
                const float *B, size_t ldb, float *C, size_t ldc, int nthreads)
{
    product(OP_TN, m, n, k, alpha, A, lda, B, ldb, NULL, C, ldc, nthreads, NULL, NULL);
}

void bp_gemm_nn(size_t m, size_t n, size_t k, const float *A, size_t lda, const float *B,
                size_t ldb, float *C, size_t ldc, int nthreads)
{
    bp_gemm_nn_ep(m, n, k, A, lda, B, ldb, C, ldc, nthreads, NULL, NULL);
}

/* each out[j] is one chain of adds over i in order: vector lanes run over j, so the bits are
 * those of the plain loops (out and A never overlap) */
BP_VCLONES void bp_colsum(size_t m, size_t n, float alpha, const float *A, size_t lda, float *out)
{
    for (size_t j = 0; j < n; j++)
        out[j] = 0.0f;
    for (size_t i = 0; i < m; i++) {
        const float *a = A + i * lda;
#pragma omp simd
        for (size_t j = 0; j < n; j++)
            out[j] += a[j];
    }
#pragma omp simd
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

int bp_kernels_check(bp_err *e)
{
    const char *v = getenv("BPRUN_KERNELS");
    if (env_builtin() < 0)
        return bp_err_set(e, BP_EUSAGE, "BPRUN_KERNELS: expected 'builtin' or 'blas' (got '%s')",
                          v);
#ifdef BP_HAVE_CBLAS
    pthread_once(&blas_once, blas_init); /* also with builtin kernels: OpenBLAS's idle threads */
    if (env_builtin() == 0) {
        if (!blas_single)
            return bp_err_set(e, BP_ERUN, "OpenBLAS refused to run single-threaded "
                              "(openblas_get_num_threads() = %d after "
                              "openblas_set_num_threads(1)); set BPRUN_KERNELS=builtin",
                              openblas_get_num_threads());
    }
#else
    if (v && strcmp(v, "blas") == 0)
        return bp_err_set(e, BP_EUSAGE, "BPRUN_KERNELS=blas: this bprun was built without "
                          "BLAS (configure --with-blas; Debian: apt-get install libopenblas-dev)");
#endif
    return BP_OK;
}

const char *bp_kernels_name(void)
{
#ifdef BP_HAVE_CBLAS
    if (env_builtin() != 0)
        return "builtin";
    pthread_once(&blas_once, blas_init);
    return blas_name;
#else
    return "builtin";
#endif
}
