/* small.h - the dense products of kernels.h for tiny shapes, on the calling thread.
 *
 * For nets of a few units (XOR's 2-2-1, online training: one row per step) the cost of a
 * kernels.h call is its dispatch (instruction-set level, tile shape, tile loop), not its
 * arithmetic. These functions compute the same products with plain loops and MUST give the same
 * bits as the kernels.h function of the same name for every shape, because every element
 * follows the chain of float operations kernels.h documents:
 *   nt:     8 lane sums over p < k & ~7 (lane p % 8, p ascending, each from +0), the fixed lane
 *           order ((0+4)+(2+6)) + ((1+5)+(3+7)), then the tail p ascending, then + bias;
 *   tn, nn: acc = +0; acc += a(i,p) * B[p][j] for p ascending; C = alpha * acc (nn: alpha 1);
 *   colsum: out = +0; out += A[i][j] for i ascending; out *= alpha.
 * tests/check_small compares them (and bp_small_colsum with bp_colsum) with kernels.h bit for
 * bit. They never start threads, so the
 * choice between them and kernels.h (bp_small_use) depends only on the shape, never on the
 * thread count.
 */
#ifndef BP_SMALL_H
#define BP_SMALL_H

#include <stddef.h>

/* Products of at most this many multiply-adds use these functions in backprop.c. */
#define BP_SMALL_MAX_WORK 2048u

static inline int bp_small_use(size_t m, size_t n, size_t k)
{
    return m * n * k <= BP_SMALL_MAX_WORK;
}

/* Defined here, inline: their callers' loops are a few elements long. */
static inline void bp_small_gemm_nt(size_t m, size_t n, size_t k, const float *A, size_t lda,
                                    const float *B, size_t ldb, const float *bias, float *C,
                                    size_t ldc)
{
    size_t k8 = k & ~(size_t)7;
    for (size_t i = 0; i < m; i++) {
        const float *a = A + i * lda;
        for (size_t j = 0; j < n; j++) {
            const float *b = B + j * ldb;
            float s = 0.0f;
            if (k8) {
                float l[8] = { 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f };
                for (size_t p = 0; p < k8; p += 8)
                    for (size_t q = 0; q < 8; q++)
                        l[q] += a[p + q] * b[p + q];
                s = ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
            }
            for (size_t p = k8; p < k; p++)
                s += a[p] * b[p];
            if (bias)
                s += bias[j];
            C[i * ldc + j] = s;
        }
    }
}

/* C[i][j] = alpha * sum_p A[p * sa_p + i * sa_i] * B[p][j] */
static inline void bp_small_axpy(size_t m, size_t n, size_t k, float alpha, const float *A,
                                 size_t sa_i, size_t sa_p, const float *B, size_t ldb, float *C,
                                 size_t ldc)
{
    for (size_t i = 0; i < m; i++) {
        float *c = C + i * ldc;
        if (!k) {
            for (size_t j = 0; j < n; j++)
                c[j] = alpha * 0.0f;
            continue;
        }
        float a0 = A[i * sa_i];
        for (size_t j = 0; j < n; j++) /* the sum starts from +0, as in kernels.h */
            c[j] = 0.0f + a0 * B[j];
        for (size_t p = 1; p < k; p++) {
            float av = A[p * sa_p + i * sa_i];
            const float *b = B + p * ldb;
            for (size_t j = 0; j < n; j++)
                c[j] += av * b[j];
        }
        if (alpha != 1.0f)
            for (size_t j = 0; j < n; j++)
                c[j] = alpha * c[j];
    }
}

static inline void bp_small_gemm_tn(size_t m, size_t n, size_t k, float alpha, const float *A,
                                    size_t lda, const float *B, size_t ldb, float *C, size_t ldc)
{
    bp_small_axpy(m, n, k, alpha, A, 1, lda, B, ldb, C, ldc);
}

static inline void bp_small_gemm_nn(size_t m, size_t n, size_t k, const float *A, size_t lda,
                                    const float *B, size_t ldb, float *C, size_t ldc)
{
    bp_small_axpy(m, n, k, 1.0f, A, lda, 1, B, ldb, C, ldc);
}

static inline void bp_small_colsum(size_t m, size_t n, float alpha, const float *A, size_t lda,
                                   float *out)
{
    for (size_t j = 0; j < n; j++) /* from +0, as in kernels.h */
        out[j] = m ? 0.0f + A[j] : 0.0f;
    for (size_t i = 1; i < m; i++)
        for (size_t j = 0; j < n; j++)
            out[j] += A[i * lda + j];
    if (alpha != 1.0f)
        for (size_t j = 0; j < n; j++)
            out[j] *= alpha;
}

#endif
