#include "autoconf.h"
#include "small.h"

void bp_small_gemm_nt(size_t m, size_t n, size_t k, const float *A, size_t lda, const float *B,
                      size_t ldb, const float *bias, float *C, size_t ldc)
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
static void small_axpy(size_t m, size_t n, size_t k, float alpha, const float *A, size_t sa_i,
                       size_t sa_p, const float *B, size_t ldb, float *C, size_t ldc)
{
    for (size_t i = 0; i < m; i++) {
        float *c = C + i * ldc;
        for (size_t j = 0; j < n; j++)
            c[j] = 0.0f;
        for (size_t p = 0; p < k; p++) {
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

void bp_small_gemm_tn(size_t m, size_t n, size_t k, float alpha, const float *A, size_t lda,
                      const float *B, size_t ldb, float *C, size_t ldc)
{
    small_axpy(m, n, k, alpha, A, 1, lda, B, ldb, C, ldc);
}

void bp_small_gemm_nn(size_t m, size_t n, size_t k, const float *A, size_t lda, const float *B,
                      size_t ldb, float *C, size_t ldc)
{
    small_axpy(m, n, k, 1.0f, A, lda, 1, B, ldb, C, ldc);
}
