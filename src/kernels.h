/* kernels.h - the dense kernels backprop needs, parallel with OpenMP and deterministic.
 *
 * Determinism: every output element is computed by exactly one thread, with an instruction
 * sequence that does not depend on how the work was divided (work is split into fixed tiles in
 * absolute index space; threads take whole tiles). So the results are bit-identical for any
 * thread count. Reductions over a dimension (the batch, for gradients) run inside one thread
 * in a fixed order. nthreads <= 1 runs serially without entering an OpenMP region; small
 * problems run serially whatever nthreads is.
 *
 * Two implementations, one contract. The builtin kernels: register tiles per CPU level
 * (x86-64-v4, x86-64-v3, portable; BPRUN_KERNEL_LEVEL=0|1 forces a lower one, for tests), all
 * giving the same bits. In a build configured with BLAS (BP_HAVE_CBLAS: OpenBLAS), products
 * whose layer has at least 64 multiply-adds per output row go to cblas_sgemm, single-threaded,
 * one call per fixed 16 x 64 output tile (edge row tiles of nt and nn padded to 16 rows, so a
 * row's bits do not depend on the batch's row count); the environment variable BPRUN_KERNELS
 * (builtin | blas, default blas) selects the path at run time. Both paths keep the determinism
 * above; they differ from each other by float rounding only (within 1e-5 (1 + k) per element
 * for operands in [-1, 1]: tests/check_kernels).
 *
 * Matrices are row-major with explicit leading dimensions.
 */
#ifndef BP_KERNELS_H
#define BP_KERNELS_H

#include <stddef.h>

#include "err.h"

/* C[m x n] = A[m x k] * B[n x k]^T + bias (bias[n] added to every row; may be NULL).
 * Forward pass: Z = A_prev W^T + b. */
void bp_gemm_nt(size_t m, size_t n, size_t k, const float *A, size_t lda, const float *B,
                size_t ldb, const float *bias, float *C, size_t ldc, int nthreads);

/* An epilogue over output rows [i0, i0 + mi): called after the whole product is done, once
 * per fixed block of rows (16; the blocks do not depend on the thread count), by the threads
 * of the product's team, concurrently on disjoint blocks. It MUST only touch those rows (of
 * C and of arrays shaped like C) and MUST give each element a value that depends only on
 * the element's own inputs, so the results stay bit-identical for any thread count. */
typedef void bp_rows_fn(void *ud, size_t i0, size_t mi);

/* bp_gemm_nt, then fn over the rows of C (NULL: none), in the same parallel region: the
 * forward pass applies the activation there. */
void bp_gemm_nt_ep(size_t m, size_t n, size_t k, const float *A, size_t lda, const float *B,
                   size_t ldb, const float *bias, float *C, size_t ldc, int nthreads,
                   bp_rows_fn *fn, void *ud);

/* C[m x n] = alpha * A[k x m]^T * B[k x n]  (C overwritten).
 * Weight gradient: dW = (1/nb) delta^T A_prev. */
void bp_gemm_tn(size_t m, size_t n, size_t k, float alpha, const float *A, size_t lda,
                const float *B, size_t ldb, float *C, size_t ldc, int nthreads);

/* C[m x n] = A[m x k] * B[k x n]  (C overwritten).
 * Back-propagated error: delta_prev = delta W (before multiplying by f'). */
void bp_gemm_nn(size_t m, size_t n, size_t k, const float *A, size_t lda, const float *B,
                size_t ldb, float *C, size_t ldc, int nthreads);

/* bp_gemm_nn, then fn over the rows of C (NULL: none), in the same parallel region: the
 * backward pass multiplies by f'(Z) there. */
void bp_gemm_nn_ep(size_t m, size_t n, size_t k, const float *A, size_t lda, const float *B,
                   size_t ldb, float *C, size_t ldc, int nthreads, bp_rows_fn *fn, void *ud);

/* 1 when the products of a layer with layer_work = n_out * n_in weights take the CBLAS path
 * (a build with BLAS, BPRUN_KERNELS not 'builtin', layer_work at least the measured threshold),
 * else 0. Depends on the layer's sizes only, never on the batch's rows: callers that compute
 * products another way (small.h) use it to keep a row's bits independent of the batch. */
int bp_kernels_blas_layer(size_t layer_work);

/* out[j] = alpha * sum_i A[i][j] over m rows (fixed order). Bias gradient. */
void bp_colsum(size_t m, size_t n, float alpha, const float *A, size_t lda, float *out);

/* sum of squares / sum, in double, over n floats, in a fixed blocked order. */
double bp_sumsq(const float *x, size_t n);

/* Checks the BPRUN_KERNELS environment variable ('builtin', 'blas' or unset) and, for the
 * CBLAS path, that OpenBLAS runs single-threaded. Call once before training; 0 or
 * BP_EUSAGE (bad value, or 'blas' in a build without BLAS) / BP_ERUN, with a message. */
int bp_kernels_check(bp_err *e);

/* The kernel implementation in use, for provenance: "builtin", or a line starting "blas: "
 * naming the tile size, the threshold and the OpenBLAS build and core. Borrowed, static. */
const char *bp_kernels_name(void);

#endif
