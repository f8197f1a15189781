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
 * tests/check_small compares them with kernels.h bit for bit. They never start threads, so the
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

void bp_small_gemm_nt(size_t m, size_t n, size_t k, const float *A, size_t lda, const float *B,
                      size_t ldb, const float *bias, float *C, size_t ldc);
void bp_small_gemm_tn(size_t m, size_t n, size_t k, float alpha, const float *A, size_t lda,
                      const float *B, size_t ldb, float *C, size_t ldc);
void bp_small_gemm_nn(size_t m, size_t n, size_t k, const float *A, size_t lda, const float *B,
                      size_t ldb, float *C, size_t ldc);

#endif
