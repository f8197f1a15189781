/* Unit tests of the numerical core: kernels (against a double-precision reference, and
 * bit-identical across thread counts), random streams, model layout, and a finite-difference
 * gradient check of backprop for every loss with test-local activations. */
#include "autoconf.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backprop.h"
#include "input.h"
#include "kernels.h"
#include "model.h"
#include "rng.h"

static void fill(float *x, size_t n, uint64_t seed)
{
    bp_rng r = bp_rng_stream(seed, 0, BP_RNG_INIT, 0);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(2.0 * bp_rng_uniform(&r) - 1.0);
}

static const size_t shapes[][3] = { { 1, 1, 1 }, { 1, 7, 3 }, { 3, 5, 9 }, { 17, 70, 33 },
                                    { 64, 130, 129 }, { 5, 1, 200 }, { 300, 257, 31 } };

START_TEST(gemm_nt_matches_reference)
{
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *A = malloc(m * k * 4), *B = malloc(n * k * 4), *bias = malloc(n * 4), *C = malloc(m * n * 4);
        fill(A, m * k, 1);
        fill(B, n * k, 2);
        fill(bias, n, 3);
        bp_gemm_nt(m, n, k, A, k, B, k, bias, C, n, 2);
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) {
                double ref = bias[j];
                for (size_t p = 0; p < k; p++)
                    ref += (double)A[i * k + p] * B[j * k + p];
                ck_assert_msg(fabs(C[i * n + j] - ref) <= 1e-5 * (1 + k),
                              "nt %zux%zux%zu at %zu,%zu: %g vs %g", m, n, k, i, j, C[i * n + j], ref);
            }
        free(A); free(B); free(bias); free(C);
    }
}
END_TEST

START_TEST(gemm_tn_nn_match_reference)
{
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *At = malloc(k * m * 4), *A = malloc(m * k * 4), *B = malloc(k * n * 4);
        float *C1 = malloc(m * n * 4), *C2 = malloc(m * n * 4);
        fill(At, k * m, 4);
        fill(B, k * n, 5);
        for (size_t i = 0; i < m; i++)
            for (size_t p = 0; p < k; p++)
                A[i * k + p] = At[p * m + i];
        bp_gemm_tn(m, n, k, 0.5f, At, m, B, n, C1, n, 2);
        bp_gemm_nn(m, n, k, A, k, B, n, C2, n, 2);
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) {
                double ref = 0;
                for (size_t p = 0; p < k; p++)
                    ref += (double)A[i * k + p] * B[p * n + j];
                ck_assert_msg(fabs(C1[i * n + j] - 0.5 * ref) <= 1e-5 * (1 + k), "tn");
                ck_assert_msg(fabs(C2[i * n + j] - ref) <= 1e-5 * (1 + k), "nn");
                /* the builtin tn and nn share one loop; a CBLAS runs two different ones */
                if (strcmp(bp_kernels_name(), "builtin") == 0)
                    ck_assert(C1[i * n + j] == 0.5f * C2[i * n + j]);
            }
        free(At); free(A); free(B); free(C1); free(C2);
    }
}
END_TEST

START_TEST(kernels_bit_identical_across_threads)
{
    size_t m = 300, n = 257, k = 129;
    float *A = malloc(m * k * 4), *B = malloc(n * k * 4), *Bt = malloc(k * n * 4);
    float *C[4], *D[4], *E[4];
    fill(A, m * k, 6);
    fill(B, n * k, 7);
    fill(Bt, k * n, 8);
    for (int t = 1; t <= 3; t++) {
        C[t] = malloc(m * n * 4);
        D[t] = malloc(m * n * 4);
        E[t] = malloc(k * n * 4);
        bp_gemm_nt(m, n, k, A, k, B, k, NULL, C[t], n, t);
        bp_gemm_nn(m, n, k, A, k, Bt, n, D[t], n, t);
        bp_gemm_tn(k, n, m, 0.25f, A, k, C[t], n, E[t], n, t);
    }
    for (int t = 2; t <= 3; t++) {
        ck_assert(memcmp(C[1], C[t], m * n * 4) == 0);
        ck_assert(memcmp(D[1], D[t], m * n * 4) == 0);
        ck_assert(memcmp(E[1], E[t], k * n * 4) == 0);
    }
    for (int t = 1; t <= 3; t++) {
        free(C[t]); free(D[t]); free(E[t]);
    }
    free(A); free(B); free(Bt);
}
END_TEST

START_TEST(rng_streams_are_keyed_and_reproducible)
{
    bp_rng a = bp_rng_stream(1, 0, BP_RNG_INIT, 0), b = bp_rng_stream(1, 0, BP_RNG_INIT, 0);
    bp_rng c = bp_rng_stream(1, 1, BP_RNG_INIT, 0), d = bp_rng_stream(1, 0, BP_RNG_SHUFFLE, 0);
    uint64_t x = bp_rng_u64(&a);
    ck_assert_uint_eq(x, bp_rng_u64(&b));
    ck_assert_uint_ne(x, bp_rng_u64(&c));
    ck_assert_uint_ne(x, bp_rng_u64(&d));
    double s = 0, s2 = 0;
    for (int i = 0; i < 100000; i++) {
        double u = bp_rng_uniform(&a);
        ck_assert(u >= 0 && u < 1);
        s += u;
        s2 += bp_rng_normal(&b);
    }
    ck_assert(fabs(s / 100000 - 0.5) < 0.01);
    ck_assert(fabs(s2 / 100000) < 0.02);
    uint32_t p[50];
    int seen[50] = { 0 };
    bp_rng_permutation(&c, p, 50);
    for (int i = 0; i < 50; i++)
        seen[p[i]]++;
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(seen[i], 1);
}
END_TEST

START_TEST(model_layout)
{
    int sizes[] = { 3, 4, 2 };
    bp_err e;
    bp_model *m = bp_model_new(sizes, 3, &e);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(m->n_params, 3 * 4 + 4 + 4 * 2 + 2);
    ck_assert_uint_eq(m->w_off[0], 0);
    ck_assert_uint_eq(m->b_off[0], 12);
    ck_assert_uint_eq(m->w_off[1], 16);
    ck_assert_uint_eq(m->b_off[1], 24);
    bp_model_init(m, BP_INIT_UNIFORM, 0.3, 1, 7, 0);
    for (size_t i = 0; i < m->n_params; i++)
        ck_assert(fabsf(m->params[i]) <= 0.3f && m->params[i] != 0.0f);
    bp_model_init(m, BP_INIT_XAVIER_UNIFORM, 0, 1, 7, 0);
    ck_assert(m->params[m->b_off[0]] == 0.0f);
    ck_assert(fabsf(m->params[0]) <= (float)sqrt(6.0 / 7));
    bp_model_free(m);
    int bad[] = { 3, 0, 2 };
    ck_assert_ptr_null(bp_model_new(bad, 3, &e));
    ck_assert_int_eq(e.code, BP_ECONFIG);
}
END_TEST

/* test-local activations so this test is independent of the plugins */
static void sig_f(const float *z, float *a, size_t n, const double *hp)
{
    (void)hp;
    for (size_t i = 0; i < n; i++)
        a[i] = 1.0f / (1.0f + expf(-z[i]));
}
static void sig_d(const float *z, const float *a, float *d, size_t n, const double *hp)
{
    (void)z; (void)hp;
    for (size_t i = 0; i < n; i++)
        d[i] = a[i] * (1.0f - a[i]);
}
static void tanh_f(const float *z, float *a, size_t n, const double *hp)
{
    (void)hp;
    for (size_t i = 0; i < n; i++)
        a[i] = tanhf(z[i]);
}
static void tanh_d(const float *z, const float *a, float *d, size_t n, const double *hp)
{
    (void)z; (void)hp;
    for (size_t i = 0; i < n; i++)
        d[i] = 1.0f - a[i] * a[i];
}
static const bp_activation act_sig = { sizeof(bp_activation), 0, NULL, sig_f, sig_d, NULL, 0 };
static const bp_activation act_tanh = { sizeof(bp_activation), 0, NULL, tanh_f, tanh_d, NULL, 0 };

static double batch_loss(bp_model *m, bp_work *w, const bp_dataset *d)
{
    bp_gather(w, d, NULL, 0, d->n);
    bp_forward(m, w, w->Xb, d->n, 1);
    return bp_loss_batch(m, w, d, d->n, NULL, 0) / (double)d->n;
}

static void gradient_check(bp_loss loss, int softmax, size_t n_out, bp_target_kind kind)
{
    int sizes[] = { 3, 5, 4, (int)n_out };
    bp_err e;
    bp_model *m = bp_model_new(sizes, 4, &e);
    ck_assert_ptr_nonnull(m);
    bp_model_init(m, BP_INIT_UNIFORM, 0.8, 1, 11, 0);
    m->loss = loss;
    m->act[0].fn = &act_tanh;
    m->act[1].fn = &act_sig;
    m->act[2].fn = softmax ? NULL : &act_sig;
    m->softmax = softmax;
    size_t n = 6;
    bp_dataset d = { .n = n, .d = 3, .kind = kind, .k = n_out };
    float X[18], Y[24];
    int32_t y[6] = { 0, 1, 1, 0, 1, 0 };
    fill(X, 18, 12);
    bp_rng r = bp_rng_stream(13, 0, BP_RNG_INIT, 0);
    for (size_t i = 0; i < n * n_out; i++)
        Y[i] = (float)bp_rng_uniform(&r);
    if (softmax && kind == BP_TARGET_LABELS)
        for (size_t i = 0; i < n; i++)
            y[i] = (int32_t)(i % n_out);
    d.X = X;
    d.Y = Y;
    d.y = y;
    bp_work *w = bp_work_new(m, n, &e);
    float *g = calloc(m->n_params, sizeof *g);
    bp_gather(w, &d, NULL, 0, n);
    bp_forward(m, w, w->Xb, n, 1);
    bp_loss_batch(m, w, &d, n, NULL, 1);
    bp_backward(m, w, w->Xb, n, g, 1);
    for (size_t i = 0; i < m->n_params; i++) {
        float keep = m->params[i];
        float h = 1e-2f;
        m->params[i] = keep + h;
        double lp = batch_loss(m, w, &d);
        m->params[i] = keep - h;
        double lm = batch_loss(m, w, &d);
        m->params[i] = keep;
        double fd = (lp - lm) / (2.0 * h);
        ck_assert_msg(fabs(fd - g[i]) <= 2e-3 * (1.0 + fabs(fd)),
                      "loss %d param %zu: backprop %g, finite difference %g", loss, i, g[i], fd);
    }
    free(g);
    bp_work_free(w);
    bp_model_free(m);
}

START_TEST(gradient_mse)
{
    gradient_check(BP_LOSS_MSE, 0, 2, BP_TARGET_MATRIX);
    gradient_check(BP_LOSS_MSE, 0, 3, BP_TARGET_LABELS);
}
END_TEST

START_TEST(gradient_cross_entropy)
{
    gradient_check(BP_LOSS_CROSS_ENTROPY, 1, 3, BP_TARGET_LABELS);
    gradient_check(BP_LOSS_CROSS_ENTROPY, 1, 4, BP_TARGET_MATRIX);
}
END_TEST

START_TEST(gradient_bce)
{
    gradient_check(BP_LOSS_BCE, 0, 1, BP_TARGET_LABELS);
    gradient_check(BP_LOSS_BCE, 0, 2, BP_TARGET_MATRIX);
}
END_TEST

START_TEST(output_delta_classic_mse_sigmoid)
{
    /* one 1-1 sigmoid unit: delta = (o - y) o (1 - o) */
    int sizes[] = { 1, 1 };
    bp_err e;
    bp_model *m = bp_model_new(sizes, 2, &e);
    m->params[0] = 0.5f;
    m->params[1] = 0.25f;
    m->act[0].fn = &act_sig;
    m->loss = BP_LOSS_MSE;
    float X[1] = { 2.0f }, Y[1] = { 1.0f };
    bp_dataset d = { .n = 1, .d = 1, .kind = BP_TARGET_MATRIX, .k = 1, .X = X, .Y = Y };
    bp_work *w = bp_work_new(m, 1, &e);
    bp_gather(w, &d, NULL, 0, 1);
    bp_forward(m, w, w->Xb, 1, 1);
    double loss = bp_loss_batch(m, w, &d, 1, NULL, 1);
    double o = 1.0 / (1.0 + exp(-1.25));
    ck_assert(fabs(loss - 0.5 * (1 - o) * (1 - o)) < 1e-7);
    ck_assert(fabs(w->D[0][0] - (o - 1) * o * (1 - o)) < 1e-7);
    bp_work_free(w);
    bp_model_free(m);
}
END_TEST

/* bp_input_open: regular files only, and a FIFO without a writer is refused at once */
START_TEST(input_refuses_non_regular)
{
    char dir[] = "/tmp/check_core.XXXXXX", fifo[64], file[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    snprintf(file, sizeof file, "%s/file", dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fputs("12345", f);
    fclose(f);
    bp_err e;
    unsigned long long size = 0;
    int fd = bp_input_open(file, BP_EDATA, &size, &e);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(size, 5);
    char c;
    ck_assert_int_eq(read(fd, &c, 1), 1);   /* blocking mode again */
    close(fd);
    ck_assert_int_eq(bp_input_open(fifo, BP_EDATA, NULL, &e), BP_EDATA);
    ck_assert_str_eq(e.msg + strlen(dir), "/fifo: not a regular file (a FIFO)");
    ck_assert_int_eq(bp_input_check(dir, BP_ECONFIG, NULL, &e), BP_ECONFIG);
    ck_assert_str_eq(e.msg + strlen(dir), ": not a regular file (a directory)");
    ck_assert_int_eq(bp_input_check("/dev/zero", BP_EIO, NULL, &e), BP_EIO);
    ck_assert_str_eq(e.msg, "/dev/zero: not a regular file (a character device)");
    ck_assert_int_eq(bp_input_check("/dev/stdin", BP_EIO, NULL, &e), BP_EIO);
    ck_assert_int_eq(bp_input_check("/proc/self/fd/0", BP_EIO, NULL, &e), BP_EIO);
    ck_assert_str_eq(e.msg, "/proc/self/fd/0: names a file descriptor, not a file; give the "
                     "file's own path");
    ck_assert_int_eq(bp_input_check(file, BP_EIO, NULL, &e), 0);
    unlink(fifo);
    unlink(file);
    rmdir(dir);
}
END_TEST

/* messages stay one line whatever text they carry */
START_TEST(err_messages_are_one_line)
{
    bp_err e;
    bp_err_set(&e, BP_EPLUGIN, "%s: %s", "p.so", "bad\nstep\r\tx\x7f");
    ck_assert_str_eq(e.msg, "p.so: bad step  x ");
    bp_err_prefix(&e, "in\n%s", "trial");
    ck_assert_str_eq(e.msg, "in trial: p.so: bad step  x ");
    ck_assert_int_eq(e.code, BP_EPLUGIN);
    char s[] = "a\x01" "b\x1f" "\xc3\xa9";   /* UTF-8 bytes stay */
    bp_text_oneline(s);
    ck_assert_str_eq(s, "a b \xc3\xa9");
}
END_TEST

static Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *k = tcase_create("kernels");
    tcase_add_test(k, gemm_nt_matches_reference);
    tcase_add_test(k, gemm_tn_nn_match_reference);
    tcase_add_test(k, kernels_bit_identical_across_threads);
    suite_add_tcase(s, k);
    TCase *r = tcase_create("rng_model");
    tcase_add_test(r, rng_streams_are_keyed_and_reproducible);
    tcase_add_test(r, model_layout);
    suite_add_tcase(s, r);
    TCase *b = tcase_create("backprop");
    tcase_add_test(b, gradient_mse);
    tcase_add_test(b, gradient_cross_entropy);
    tcase_add_test(b, gradient_bce);
    tcase_add_test(b, output_delta_classic_mse_sigmoid);
    suite_add_tcase(s, b);
    TCase *in = tcase_create("input");
    tcase_add_test(in, input_refuses_non_regular);
    tcase_add_test(in, err_messages_are_one_line);
    suite_add_tcase(s, in);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(core_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
