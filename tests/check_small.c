/* check_small: the small-shape products (src/small.h) give exactly the bits of kernels.h, with
 * 1 and 2 kernel threads, on every shape up to 9 x 9 x 19 (k from 0) (k on both sides of 8 and 16), with
 * strided (ld > width) operands, alpha 1 and 1/nb, and signed zeros (colsum likewise); and the
 * size rule. And online training (batch 1: the row is the batch input, no gather) gives the
 * same bits as the gathered path (forced by a batch hook) for matrix and label targets. */
#include "autoconf.h"
#include "small.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "generate.h"
#include "backprop.h"
#include "kernels.h"
#include "model.h"
#include "plugin.h"
#include "train.h"

static void rnd(float *p, size_t n, unsigned *s)
{
    for (size_t i = 0; i < n; i++) {
        *s = *s * 1103515245u + 12345u;
        unsigned r = *s >> 8;
        /* every 16th value a zero of either sign; the rest in [-1, 1) with 16 bits */
        p[i] = (r & 15) == 0 ? ((r & 16) ? -0.0f : 0.0f)
                             : (float)((r >> 5) & 0xffff) / 32768.0f - 1.0f;
    }
}

#define LD_PAD 3
#define MAXD 24

static void same(const float *a, const float *b, size_t n, const char *what, size_t m,
                 size_t nn, size_t k)
{
    ck_assert_msg(memcmp(a, b, n * sizeof *a) == 0, "%s differs from kernels.h at %zu x %zu x %zu",
                  what, m, nn, k);
}

START_TEST(same_bits_as_kernels)
{
    /* small.h gives the builtin kernels' bits (the CBLAS path sums in its own order) */
    ck_assert_int_eq(setenv("BPRUN_KERNELS", "builtin", 1), 0);
    static float A[MAXD * (MAXD + LD_PAD)], B[MAXD * (MAXD + LD_PAD)], bias[MAXD];
    static float C1[MAXD * (MAXD + LD_PAD)], C2[MAXD * (MAXD + LD_PAD)];
    unsigned s = 7;
    size_t shapes = 0;
    for (size_t m = 1; m <= 9; m++)
        for (size_t n = 1; n <= 9; n++)
            for (size_t k = 0; k <= 19; k++)
                for (int th = 1; th <= 2; th++) {
                    size_t lda = k + LD_PAD, ldb = k + LD_PAD, ldc = n + LD_PAD;
                    rnd(A, sizeof A / sizeof *A, &s);
                    rnd(B, sizeof B / sizeof *B, &s);
                    rnd(bias, MAXD, &s);
                    /* nt: A m x k, B n x k */
                    memset(C1, 0, sizeof C1);
                    memset(C2, 0, sizeof C2);
                    bp_gemm_nt(m, n, k, A, lda, B, ldb, (k & 1) ? bias : NULL, C1, ldc, th);
                    bp_small_gemm_nt(m, n, k, A, lda, B, ldb, (k & 1) ? bias : NULL, C2, ldc);
                    same(C1, C2, sizeof C1 / sizeof *C1, "nt", m, n, k);
                    /* tn: A k x m (lda >= m), B k x n */
                    float alpha = (k & 1) ? 1.0f : k ? 1.0f / (float)k : 0.5f;
                    size_t lda2 = m + LD_PAD, ldb2 = n + LD_PAD;
                    memset(C1, 0, sizeof C1);
                    memset(C2, 0, sizeof C2);
                    bp_gemm_tn(m, n, k, alpha, A, lda2, B, ldb2, C1, ldc, th);
                    bp_small_gemm_tn(m, n, k, alpha, A, lda2, B, ldb2, C2, ldc);
                    same(C1, C2, sizeof C1 / sizeof *C1, "tn", m, n, k);
                    /* nn: A m x k, B k x n */
                    memset(C1, 0, sizeof C1);
                    memset(C2, 0, sizeof C2);
                    bp_gemm_nn(m, n, k, A, lda, B, ldb2, C1, ldc, th);
                    bp_small_gemm_nn(m, n, k, A, lda, B, ldb2, C2, ldc);
                    same(C1, C2, sizeof C1 / sizeof *C1, "nn", m, n, k);
                    /* colsum: A m x n */
                    memset(C1, 0, sizeof C1);
                    memset(C2, 0, sizeof C2);
                    bp_colsum(m, n, alpha, A, lda, C1);
                    bp_small_colsum(m, n, alpha, A, lda, C2);
                    same(C1, C2, sizeof C1 / sizeof *C1, "colsum", m, n, k);
                    shapes++;
                }
    ck_assert_uint_eq(shapes, 9 * 9 * 20 * 2);
}
END_TEST

/* A row's forward pass gives the same bits alone (a product small enough for small.h) as in a
 * batch (kernels.h), with the default kernels: in a BLAS build the 16 x 4 layer takes the CBLAS
 * path, which backprop.c must then use for the single row too. */
START_TEST(row_independent_of_batch)
{
    unsetenv("BPRUN_KERNELS");
    bp_err e;
    char *dirs[1] = { PLUGIN_DIR };
    bp_registry *r = bp_registry_new(dirs, 1, &e);
    ck_assert_ptr_nonnull(r);
    const bp_loaded *sig = bp_registry_get(r, "sigmoid", BP_ACTIVATION, &e);
    ck_assert_msg(sig != NULL, "%s", e.msg);
    int sizes[3] = { 16, 4, 3 };
    bp_model *m = bp_model_new(sizes, 3, &e);
    ck_assert_ptr_nonnull(m);
    m->act[0].name = "sigmoid";
    m->act[0].fn = sig->desc->u.activation;
    m->act[0].n_hp = 0;
    m->act[1].name = "softmax";
    m->act[1].fn = NULL;
    m->softmax = 1;
    m->loss = BP_LOSS_CROSS_ENTROPY;
    bp_model_init(m, BP_INIT_UNIFORM, 1.0, 1.0, 3, 0);
    enum { NB = 40 };
    ck_assert(!bp_small_use(NB, 4, 16) && bp_small_use(1, 4, 16));
    static float X[NB * 16], H[NB * 4], O[NB * 3];
    unsigned s = 11;
    rnd(X, NB * 16, &s);
    bp_work *w = bp_work_new(m, NB, &e);
    ck_assert_ptr_nonnull(w);
    bp_forward(m, w, X, NB, 1);
    memcpy(H, w->A[0], sizeof H);
    memcpy(O, w->A[1], sizeof O);
    for (size_t i = 0; i < NB; i++) {
        bp_forward(m, w, X + i * 16, 1, 1);
        ck_assert_msg(memcmp(w->A[0], H + i * 4, 4 * sizeof(float)) == 0,
                      "hidden row %zu differs alone and in a batch", i);
        ck_assert_msg(memcmp(w->A[1], O + i * 3, 3 * sizeof(float)) == 0,
                      "output row %zu differs alone and in a batch", i);
    }
    bp_work_free(w);
    bp_model_free(m);
    bp_registry_free(r);
}
END_TEST

/* A product whose sum is -0 + -0: kernels.h starts every sum from +0, so the result is +0. */
START_TEST(signed_zero)
{
    float a[2] = { -0.0f, 1.0f }, b[2] = { 1.0f, -0.0f }, c = 1.0f;
    bp_small_gemm_nt(1, 1, 2, a, 2, b, 2, NULL, &c, 1);
    ck_assert(c == 0.0f && !signbit(c));
    float d = 1.0f;
    bp_small_gemm_tn(1, 1, 1, 1.0f, a, 1, b, 1, &d, 1);
    ck_assert(d == 0.0f && !signbit(d));
}
END_TEST

START_TEST(size_rule)
{
    ck_assert(bp_small_use(1, 2, 2));
    ck_assert(bp_small_use(1, 128, 16));
    ck_assert(!bp_small_use(1, 128, 17));
    ck_assert(!bp_small_use(32, 128, 64));
}
END_TEST

static int noop_hook(void *ud, bp_trainer *t, const bp_batch_info *b, bp_err *e)
{
    (void)t;
    (void)b;
    (void)e;
    ++*(int *)ud;
    return 0;
}

/* Trains a 2-3-k sigmoid net on d online for 30 epochs (shuffled, SGD with momentum) with or
 * without a batch hook; returns the parameters and optimizer state (malloc'd). */
static float *train_online(const bp_dataset *d, bp_registry *r, int hook, float **state,
                           size_t *np)
{
    bp_err e;
    const bp_loaded *sig = bp_registry_get(r, "sigmoid", BP_ACTIVATION, &e);
    const bp_loaded *sgd = bp_registry_get(r, "sgd", BP_OPTIMIZER, &e);
    ck_assert_msg(sig && sgd, "%s", e.msg);
    int sizes[3] = { (int)d->d, 3, d->kind == BP_TARGET_LABELS ? (int)d->k : 1 };
    bp_model *m = bp_model_new(sizes, 3, &e);
    ck_assert_ptr_nonnull(m);
    for (size_t l = 0; l < 2; l++) {
        m->act[l].name = "sigmoid";
        m->act[l].fn = sig->desc->u.activation;
        m->act[l].n_hp = 0;
    }
    if (d->kind == BP_TARGET_LABELS) {
        m->act[1].name = "softmax";
        m->act[1].fn = NULL;
        m->softmax = 1;
        m->loss = BP_LOSS_CROSS_ENTROPY;
    } else {
        m->loss = BP_LOSS_MSE;
    }
    bp_model_init(m, BP_INIT_UNIFORM, 1.0, 1.0, 3, 0);
    int calls = 0;
    bp_trainer t = { .model = m, .train = d, .optimizer = sgd, .epochs = 30, .batch_size = 1,
                     .shuffle = 1, .seed = 5, .trial = 0, .nthreads = 1 };
    t.hp[0] = 0.5; /* lr */
    t.hp[1] = 0.9; /* momentum */
    if (hook) {
        t.on_batch = noop_hook;
        t.batch_ud = &calls;
    }
    ck_assert_int_eq(bp_train(&t, &e), 0);
    ck_assert_int_eq(t.status, BP_TRIAL_COMPLETED);
    ck_assert_int_eq(calls, hook ? 2 * 30 * (int)d->n : 0);
    *np = m->n_params;
    float *p = malloc(m->n_params * sizeof *p);
    *state = malloc(m->n_params * sizeof **state);
    ck_assert(p && *state);
    memcpy(p, m->params, m->n_params * sizeof *p);
    memcpy(*state, t.opt_state, m->n_params * sizeof **state);
    bp_trainer_release(&t);
    bp_model_free(m);
    return p;
}

START_TEST(online_same_as_gathered)
{
    bp_err e;
    char *dirs[1] = { PLUGIN_DIR };
    bp_registry *r = bp_registry_new(dirs, 1, &e);
    ck_assert_ptr_nonnull(r);
    bp_dataset *xor = bp_data_generate("builtin:xor", &e);
    ck_assert_ptr_nonnull(xor);
    bp_dataset *lab = bp_data_new("labels", 6, 2, BP_TARGET_LABELS, 3, &e);
    ck_assert_ptr_nonnull(lab);
    for (size_t i = 0; i < 6; i++) {
        lab->X[2 * i] = (float)i / 6.0f;
        lab->X[2 * i + 1] = (float)(i % 2);
        lab->y[i] = (int32_t)(i % 3);
    }
    const bp_dataset *ds[2] = { xor, lab };
    for (int k = 0; k < 2; k++) {
        size_t n1, n2;
        float *s1, *s2;
        float *p1 = train_online(ds[k], r, 0, &s1, &n1);
        float *p2 = train_online(ds[k], r, 1, &s2, &n2);
        ck_assert_uint_eq(n1, n2);
        ck_assert_msg(memcmp(p1, p2, n1 * sizeof *p1) == 0, "dataset %d: parameters differ", k);
        ck_assert_msg(memcmp(s1, s2, n1 * sizeof *s1) == 0, "dataset %d: momentum differs", k);
        /* and training moved the parameters */
        ck_assert(p1[0] != 0.0f || p1[1] != 0.0f);
        free(p1);
        free(p2);
        free(s1);
        free(s2);
    }
    bp_data_free(xor);
    bp_data_free(lab);
    bp_registry_free(r);
}
END_TEST

/* bp_online_row against bp_forward + bp_loss_batch + bp_backward with nb = 1, bit for bit (the
 * loss, the correct count, the gradient and every layer's Z, A, D), for mse, cross entropy with
 * softmax and binary cross entropy, 2 and 3 layers; and bp_online_ok's size rule. */
static void online_row_case(bp_registry *r, const bp_dataset *d, const int *sizes, size_t ns,
                            bp_loss loss, int softmax)
{
    bp_err e;
    const bp_loaded *sig = bp_registry_get(r, "sigmoid", BP_ACTIVATION, &e);
    const bp_loaded *th = bp_registry_get(r, "tanh", BP_ACTIVATION, &e);
    ck_assert_msg(sig && th, "%s", e.msg);
    bp_model *m = bp_model_new(sizes, ns, &e);
    ck_assert_ptr_nonnull(m);
    for (size_t l = 0; l + 1 < ns; l++) {
        const bp_loaded *a = l % 2 ? sig : th;
        m->act[l].name = a->desc->name;
        m->act[l].fn = a->desc->u.activation;
        m->act[l].n_hp = 0;
    }
    if (softmax) {
        m->act[ns - 2].name = "softmax";
        m->act[ns - 2].fn = NULL;
        m->softmax = 1;
    } else {
        m->act[ns - 2].name = "sigmoid";
        m->act[ns - 2].fn = sig->desc->u.activation;
    }
    m->loss = loss;
    bp_model_init(m, BP_INIT_UNIFORM, 1.0, 1.0, 7, 0);
    ck_assert_int_eq(bp_online_ok(m), 1);
    bp_work *w1 = bp_work_new(m, 1, &e), *w2 = bp_work_new(m, 1, &e);
    float *g1 = calloc(m->n_params, sizeof *g1), *g2 = calloc(m->n_params, sizeof *g2);
    ck_assert(w1 && w2 && g1 && g2);
    for (size_t i = 0; i < d->n; i++) {
        uint32_t idx = (uint32_t)i;
        bp_gather(w1, d, &idx, 0, 1);
        bp_gather(w2, d, &idx, 0, 1);
        size_t c1 = 0;
        int c2 = -1;
        bp_forward(m, w1, w1->Xb, 1, 1);
        double l1 = bp_loss_batch(m, w1, d, 1, &c1, 1);
        bp_backward(m, w1, w1->Xb, 1, g1, 1);
        double l2 = bp_online_row(m, w2, d, d->X + i * d->d, g2, &c2);
        ck_assert_msg(memcmp(&l1, &l2, sizeof l1) == 0, "row %zu: loss %.17g != %.17g", i, l1, l2);
        ck_assert_msg(memcmp(&w1->loss_row[0], &w2->loss_row[0], sizeof l1) == 0, "row %zu", i);
        ck_assert_int_eq((int)c1, c2);
        ck_assert_msg(memcmp(g1, g2, m->n_params * sizeof *g1) == 0, "row %zu: gradient", i);
        for (size_t l = 0; l + 1 < ns; l++) {
            size_t n = (size_t)sizes[l + 1] * sizeof(float);
            ck_assert_msg(memcmp(w1->Z[l], w2->Z[l], n) == 0, "row %zu layer %zu: Z", i, l);
            ck_assert_msg(memcmp(w1->A[l], w2->A[l], n) == 0, "row %zu layer %zu: A", i, l);
            ck_assert_msg(memcmp(w1->D[l], w2->D[l], n) == 0, "row %zu layer %zu: D", i, l);
        }
    }
    free(g1);
    free(g2);
    bp_work_free(w1);
    bp_work_free(w2);
    bp_model_free(m);
}

START_TEST(online_row_same_as_general)
{
    bp_err e;
    char *dirs[1] = { PLUGIN_DIR };
    bp_registry *r = bp_registry_new(dirs, 1, &e);
    ck_assert_ptr_nonnull(r);
    bp_dataset *xor = bp_data_generate("builtin:xor", &e);
    ck_assert_ptr_nonnull(xor);
    bp_dataset *lab = bp_data_new("labels", 6, 3, BP_TARGET_LABELS, 3, &e);
    ck_assert_ptr_nonnull(lab);
    for (size_t i = 0; i < 18; i++)
        lab->X[i] = (float)((int)(i * 7 % 11) - 5) / 3.0f;
    for (size_t i = 0; i < 6; i++)
        lab->y[i] = (int32_t)(i % 3);
    int s221[3] = { 2, 2, 1 }, s2531[4] = { 2, 5, 3, 1 }, s343[3] = { 3, 4, 3 },
        s3753[4] = { 3, 7, 5, 3 };
    online_row_case(r, xor, s221, 3, BP_LOSS_MSE, 0);
    online_row_case(r, xor, s2531, 4, BP_LOSS_MSE, 0);
    online_row_case(r, xor, s2531, 4, BP_LOSS_BCE, 0);
    online_row_case(r, lab, s343, 3, BP_LOSS_CROSS_ENTROPY, 1);
    online_row_case(r, lab, s3753, 4, BP_LOSS_CROSS_ENTROPY, 1);
    /* a layer of more than BP_SMALL_MAX_WORK multiply-adds: the general path */
    int big[3] = { 64, 64, 1 };
    bp_model *m = bp_model_new(big, 3, &e);
    ck_assert_ptr_nonnull(m);
    const bp_loaded *sig = bp_registry_get(r, "sigmoid", BP_ACTIVATION, &e);
    ck_assert_ptr_nonnull(sig);
    m->act[0].fn = m->act[1].fn = sig->desc->u.activation;
    ck_assert_int_eq(bp_online_ok(m), 0);
    big[0] = 7; /* 7 x 8 x 1: small, and below the CBLAS path (BP_BLAS_MIN_WORK 64) */
    big[1] = 8;
    bp_model_free(m);
    m = bp_model_new(big, 3, &e);
    ck_assert_ptr_nonnull(m);
    m->act[0].fn = m->act[1].fn = sig->desc->u.activation;
    ck_assert_int_eq(bp_online_ok(m), 1);
    bp_model_free(m);
    bp_data_free(xor);
    bp_data_free(lab);
    bp_registry_free(r);
}
END_TEST

/* ---- the fused online step (backprop.h bp_fused_row) against the plugins ---- */

/* one training's outcome: parameters, optimizer state, epoch losses, status, message */
typedef struct outcome {
    float *p, *s;
    double loss[200];
    int epochs, status;
    char msg[BP_ERR_MSG_MAX];
} outcome;

static int note_loss(void *ud, const bp_epoch_row *row, const bp_model *m, bp_err *e)
{
    (void)m;
    (void)e;
    outcome *o = ud;
    int ep = (int)row->v[BP_COL_EPOCH];
    if (ep >= 1 && ep <= 200)
        o->loss[ep - 1] = row->v[BP_COL_LOSS];
    o->epochs = ep;
    return 0;
}

/* A net of `sizes`: hidden layers `hid` (its default hyperparameters), output `out` (NULL:
 * softmax), initialized from seed 11. */
static bp_model *fused_net(const int *sizes, size_t ns, const bp_loaded *hid, const bp_loaded *out,
                           bp_loss loss)
{
    bp_err e;
    bp_model *m = bp_model_new(sizes, ns, &e);
    ck_assert_ptr_nonnull(m);
    for (size_t l = 0; l + 1 < ns; l++) {
        const bp_loaded *a = l + 2 < ns ? hid : out;
        if (!a) {
            m->act[l].name = "softmax";
            m->act[l].fn = NULL;
            m->softmax = 1;
            continue;
        }
        const bp_activation *fn = a->desc->u.activation;
        m->act[l].name = a->desc->name;
        m->act[l].fn = fn;
        m->act[l].n_hp = fn->n_hparams;
        for (uint32_t h = 0; h < fn->n_hparams; h++)
            m->act[l].hp[h] = fn->hparams[h].def;
    }
    m->loss = loss;
    bp_model_init(m, BP_INIT_UNIFORM, 1.0, 1.0, 11, 0);
    return m;
}

/* Trains online, shuffled, for `epochs` with optimizer opt (defaults, then hp_names[i] =
 * hp_vals[i]); BPRUN_FUSED=fused. *fused_ok: what bp_fused_ok said of it. */
static outcome fused_train(const int *sizes, size_t ns, const bp_loaded *hid, const bp_loaded *out,
                           bp_loss loss, const bp_dataset *d, int epochs, const bp_loaded *opt,
                           const char *const *hp_names, const double *hp_vals, size_t n_hp,
                           const char *fused, int *fused_ok)
{
    bp_err e;
    ck_assert_int_eq(setenv("BPRUN_FUSED", fused, 1), 0);
    bp_model *m = fused_net(sizes, ns, hid, out, loss);
    outcome o;
    memset(&o, 0, sizeof o);
    bp_trainer t = { .model = m, .train = d, .optimizer = opt, .epochs = epochs, .batch_size = 1,
                     .shuffle = 1, .seed = 9, .trial = 0, .nthreads = 1, .on_epoch = note_loss,
                     .ud = &o };
    const bp_optimizer *od = opt->desc->u.optimizer;
    for (uint32_t h = 0; h < od->n_hparams; h++) {
        t.hp[h] = od->hparams[h].def;
        for (size_t k = 0; k < n_hp; k++)
            if (!strcmp(od->hparams[h].name, hp_names[k]))
                t.hp[h] = hp_vals[k];
    }
    bp_fused fz;
    int act[8];
    fz.act = act;
    ck_assert_uint_le(m->n_layers, 8);
    *fused_ok = bp_fused_ok(m, opt->desc, t.hp, &fz);
    ck_assert_int_eq(bp_train(&t, &e), 0);
    o.status = (int)t.status;
    snprintf(o.msg, sizeof o.msg, "%s", t.message);
    o.p = malloc(m->n_params * sizeof *o.p);
    o.s = calloc(m->n_params * (od->n_state ? od->n_state : 1), sizeof *o.s);
    ck_assert(o.p && o.s);
    memcpy(o.p, m->params, m->n_params * sizeof *o.p);
    if (od->n_state)
        memcpy(o.s, t.opt_state, m->n_params * od->n_state * sizeof *o.s);
    bp_trainer_release(&t);
    bp_model_free(m);
    ck_assert_int_eq(unsetenv("BPRUN_FUSED"), 0);
    return o;
}

static int same_outcome(const outcome *a, const outcome *b, size_t np, size_t ns)
{
    return a->status == b->status && !strcmp(a->msg, b->msg) && a->epochs == b->epochs &&
           !memcmp(a->loss, b->loss, sizeof a->loss) && !memcmp(a->p, b->p, np * sizeof *a->p) &&
           !memcmp(a->s, b->s, np * (ns ? ns : 1) * sizeof *a->s);
}

/* Every bundled activation (as the hidden layers, and as the output under mse) with every
 * bundled optimizer, sgd in each of its update forms, trained with the fused step where it
 * applies and with the plugins (BPRUN_FUSED=0): parameters, optimizer state, every epoch's loss,
 * status and message are the same bits. Nets: XOR 2-3-1 and 2-5-3-1 and 3 inputs 3-4-3, 3-2-3 (mse,
 * output the activation itself), XOR 2-4-1 (binary cross entropy, sigmoid output), 3-5-4-3
 * (softmax cross entropy); 100 epochs of XOR (400 steps), 60 of the 6 labelled rows (360). bp_fused_ok must say
 * which take the fused step: the bundled sigmoid, tanh, relu and identity with sgd (but not an
 * sgd setting sgd itself refuses). */
START_TEST(fused_same_bits_as_plugins)
{
    bp_err e;
    char *dirs[1] = { PLUGIN_DIR };
    bp_registry *r = bp_registry_new(dirs, 1, &e);
    ck_assert_ptr_nonnull(r);
    bp_dataset *xor = bp_data_generate("builtin:xor", &e);
    ck_assert_ptr_nonnull(xor);
    bp_dataset *lab = bp_data_new("labels", 6, 3, BP_TARGET_LABELS, 3, &e);
    ck_assert_ptr_nonnull(lab);
    for (size_t i = 0; i < 18; i++)
        lab->X[i] = (float)((int)(i * 7 % 11) - 5) / 3.0f;
    for (size_t i = 0; i < 6; i++)
        lab->y[i] = (int32_t)(i % 3);
    static const char *const acts[] = { "elu", "gelu", "identity", "leaky_relu", "relu",
                                        "sigmoid", "softplus", "softsign", "tanh" };
    static const char *const fusable[] = { "identity", "relu", "sigmoid", "tanh" };
    typedef struct {
        const char *opt;
        size_t n;
        const char *names[4];
        double vals[4];
        int fusable;
    } optcase;
    static const optcase opts[] = {
        { "sgd", 1, { "lr" }, { 0.3 }, 1 },
        { "sgd", 2, { "lr", "momentum" }, { 0.1, 0.9 }, 1 },
        { "sgd", 3, { "lr", "momentum", "nesterov" }, { 0.1, 0.9, 1 }, 1 },
        { "sgd", 3, { "lr", "momentum", "dampening" }, { 0.1, 0.8, 0.5 }, 1 },
        { "sgd", 3, { "lr", "momentum", "weight_decay" }, { 0.1, 0.5, 0.01 }, 1 },
        { "sgd", 2, { "lr", "weight_decay" }, { 0.2, 0.001 }, 1 },
        { "sgd", 2, { "lr", "nesterov" }, { 0.1, 1 }, 0 }, /* sgd refuses it: failed */
        { "adam", 0, { NULL }, { 0 }, 0 },
        { "adamw", 0, { NULL }, { 0 }, 0 },
        { "adagrad", 0, { NULL }, { 0 }, 0 },
        { "adadelta", 0, { NULL }, { 0 }, 0 },
        { "rmsprop", 0, { NULL }, { 0 }, 0 },
        { "rprop", 0, { NULL }, { 0 }, 0 },
        { "quickprop", 0, { NULL }, { 0 }, 0 },
    };
    const bp_loaded *sig = bp_registry_get(r, "sigmoid", BP_ACTIVATION, &e);
    ck_assert_ptr_nonnull(sig);
    /* the nets: sizes, output (0: the activation itself, 1: sigmoid, 2: softmax), loss, data
     * (0: XOR, 1: the labelled rows); the first three are computed in registers (one hidden
     * layer of at most 4 units, mse), the others by the general fused code */
    typedef struct {
        int sizes[4];
        size_t ns;
        int out;
        bp_loss loss;
        int data;
    } netcase;
    static const netcase nets[] = {
        { { 2, 3, 1 }, 3, 0, BP_LOSS_MSE, 0 },
        { { 3, 4, 3 }, 3, 0, BP_LOSS_MSE, 1 },
        { { 3, 2, 3 }, 3, 0, BP_LOSS_MSE, 1 },
        { { 2, 5, 3, 1 }, 4, 0, BP_LOSS_MSE, 0 },
        { { 2, 4, 1 }, 3, 1, BP_LOSS_BCE, 0 },
        { { 3, 5, 4, 3 }, 4, 2, BP_LOSS_CROSS_ENTROPY, 1 },
    };
    const size_t n_nets = sizeof nets / sizeof nets[0];
    int n_fused = 0, n_runs = 0;
    for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++) {
        const bp_loaded *act = bp_registry_get(r, acts[a], BP_ACTIVATION, &e);
        ck_assert_msg(act != NULL, "%s", e.msg);
        int act_fusable = 0;
        for (size_t k = 0; k < sizeof fusable / sizeof fusable[0]; k++)
            act_fusable |= !strcmp(acts[a], fusable[k]);
        for (size_t o = 0; o < sizeof opts / sizeof opts[0]; o++) {
            const bp_loaded *opt = bp_registry_get(r, opts[o].opt, BP_OPTIMIZER, &e);
            ck_assert_msg(opt != NULL, "%s", e.msg);
            size_t nst = opt->desc->u.optimizer->n_state;
            for (size_t net = 0; net < n_nets; net++) {
                const int *sz = nets[net].sizes;
                size_t ns = nets[net].ns;
                const bp_loaded *out = nets[net].out == 0 ? act : nets[net].out == 1 ? sig : NULL;
                bp_loss loss = nets[net].loss;
                const bp_dataset *d = nets[net].data ? lab : xor;
                int epochs = nets[net].data ? 60 : 100, ok1, ok0;
                outcome f = fused_train(sz, ns, act, out, loss, d, epochs, opt, opts[o].names,
                                        opts[o].vals, opts[o].n, "1", &ok1);
                outcome p = fused_train(sz, ns, act, out, loss, d, epochs, opt, opts[o].names,
                                        opts[o].vals, opts[o].n, "0", &ok0);
                size_t np = 0;
                for (size_t l = 0; l + 1 < ns; l++)
                    np += (size_t)sz[l + 1] * (size_t)(sz[l] + 1);
                ck_assert_msg(ok1 == ok0 && ok1 == (act_fusable && opts[o].fusable),
                              "%s x %s%s, net %zu: bp_fused_ok says %d", acts[a], opts[o].opt,
                              opts[o].n > 1 ? " (a variant)" : "", net, ok1);
                ck_assert_msg(same_outcome(&f, &p, np, nst),
                              "%s x %s (case %zu), net %zu: fused and plugin training differ "
                              "(status %d/%d, %d/%d epochs, final loss %.9g/%.9g)", acts[a],
                              opts[o].opt, o, net, f.status, p.status, f.epochs, p.epochs,
                              f.epochs ? f.loss[f.epochs - 1] : NAN,
                              p.epochs ? p.loss[p.epochs - 1] : NAN);
                n_fused += ok1;
                n_runs++;
                free(f.p);
                free(f.s);
                free(p.p);
                free(p.s);
            }
        }
    }
    ck_assert_int_eq(n_fused, 4 * 6 * (int)n_nets);
    fprintf(stderr, "check_small: %d trainings compared bit for bit, %d of them fused\n", n_runs,
            n_fused);
    bp_data_free(xor);
    bp_data_free(lab);
    bp_registry_free(r);
}
END_TEST

/* A user's plugin named sigmoid (tests/user/.libs, first in the search path; libm's expf, so
 * other bits) takes the plugin path: bp_fused_ok refuses it, BPRUN_FUSED makes no difference,
 * and its training differs from the bundled sigmoid's. BPRUN_FUSED takes 0 or 1 only. */
START_TEST(fused_never_for_user_plugins)
{
    bp_err e;
    char *dirs[2] = { USER_DIR, PLUGIN_DIR };
    bp_registry *r = bp_registry_new(dirs, 2, &e);
    ck_assert_ptr_nonnull(r);
    char *bdirs[1] = { PLUGIN_DIR };
    bp_registry *rb = bp_registry_new(bdirs, 1, &e);
    ck_assert_ptr_nonnull(rb);
    const bp_loaded *user = bp_registry_get(r, "sigmoid", BP_ACTIVATION, &e);
    const bp_loaded *sgd = bp_registry_get(r, "sgd", BP_OPTIMIZER, &e);
    const bp_loaded *own = bp_registry_get(rb, "sigmoid", BP_ACTIVATION, &e);
    ck_assert(user && sgd && own);
    ck_assert_msg(strstr(user->path, "/tests/user/") != NULL, "%s", user->path);
    bp_dataset *xor = bp_data_generate("builtin:xor", &e);
    ck_assert_ptr_nonnull(xor);
    int s231[3] = { 2, 3, 1 }, ok_u1, ok_u0, ok_own;
    const char *lr[1] = { "lr" };
    double v[1] = { 0.5 };
    outcome u1 = fused_train(s231, 3, user, user, BP_LOSS_MSE, xor, 100, sgd, lr, v, 1, "1", &ok_u1);
    outcome u0 = fused_train(s231, 3, user, user, BP_LOSS_MSE, xor, 100, sgd, lr, v, 1, "0", &ok_u0);
    outcome ow = fused_train(s231, 3, own, own, BP_LOSS_MSE, xor, 100, sgd, lr, v, 1, "1", &ok_own);
    ck_assert_int_eq(ok_u1, 0);
    ck_assert_int_eq(ok_u0, 0);
    ck_assert_int_eq(ok_own, 1);
    ck_assert(same_outcome(&u1, &u0, 13, 1));
    ck_assert(memcmp(u1.p, ow.p, 13 * sizeof *u1.p) != 0);
    free(u1.p);
    free(u1.s);
    free(u0.p);
    free(u0.s);
    free(ow.p);
    free(ow.s);
    /* BPRUN_FUSED: 0 or 1, else the trial does not start */
    ck_assert_int_eq(setenv("BPRUN_FUSED", "yes", 1), 0);
    ck_assert_int_eq(bp_fused_env(&e), BP_EUSAGE);
    ck_assert_str_eq(e.msg, "BPRUN_FUSED: expected 0 or 1 (got 'yes')");
    ck_assert_int_eq(setenv("BPRUN_FUSED", "", 1), 0);
    ck_assert_int_eq(bp_fused_env(&e), 1);
    ck_assert_int_eq(unsetenv("BPRUN_FUSED"), 0);
    bp_data_free(xor);
    bp_registry_free(r);
    bp_registry_free(rb);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("small");
    TCase *tc = tcase_create("small");
    tcase_add_test(tc, same_bits_as_kernels);
    tcase_add_test(tc, signed_zero);
    tcase_add_test(tc, size_rule);
    tcase_add_test(tc, row_independent_of_batch);
    tcase_add_test(tc, online_same_as_gathered);
    tcase_add_test(tc, online_row_same_as_general);
    tcase_add_test(tc, fused_same_bits_as_plugins);
    tcase_add_test(tc, fused_never_for_user_plugins);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
