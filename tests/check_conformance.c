/* Conformance of the optimizer plugins with independent reference trajectories:
 * tests/conformance/reference.txt, written by tests/conformance/make_reference.py with
 * torch.optim (and, for quickprop, a transcription of FANN's rule). Every case is replayed
 * through the registry: the plugin is loaded by name, the case's hyperparameters are bound with
 * bp_plugin_bind (so names, ranges and defaults are the host's), the gradient of the same fixed
 * problem is recomputed in C exactly as the script computes it, and every parameter after every
 * step is compared with the reference. Elementwise optimizers are also run in slices
 * (state_stride = the whole length) and must give the same bits as one call.
 * The table printed to the log lists the largest relative difference of every case. */
#include "autoconf.h"
#include "plugin.h"

#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef BP_TEST_SRCDIR
#error "BP_TEST_SRCDIR must name the source tree"
#endif

#define REFERENCE BP_TEST_SRCDIR "/tests/conformance/reference.txt"

/* The largest relative difference |w - ref| / |ref| accepted for any parameter after any step
 * (a difference where ref is 0 counts as |w| / FLT_MIN). The plugins are written to reproduce
 * torch's float32 rounding, so the expected difference is 0. */
#define TOLERANCE 1e-6
#define MIN_STEPS 20

enum { MAX_N = 64, MAX_STEPS = 200, MAX_CASES = 64, MAX_HP = 16 };

typedef struct ref_case {
    char name[64], plugin[64];
    int steps;
    size_t n_hp;
    char hp_name[MAX_HP][64];
    double hp_value[MAX_HP];
    float *w;                  /* steps * n values */
} ref_case;

static struct {
    size_t n;
    double q, c[MAX_N], a[MAX_N * MAX_N];
    float w0[MAX_N];
    size_t n_cases;
    ref_case cases[MAX_CASES];
} ref;

/* Optimizers that MUST have a reference (the loop test's index). */
static const char *const optimizers[] = { "sgd", "adam", "adamw", "adagrad", "rmsprop",
                                          "adadelta", "rprop", "quickprop" };
enum { N_OPTIMIZERS = sizeof optimizers / sizeof optimizers[0] };

/* Reads exactly n numbers from p (nothing but blanks after them); 0 or -1. */
static int parse_numbers(const char *p, double *out, size_t n)
{
    char *end;
    for (size_t i = 0; i < n; i++) {
        out[i] = strtod(p, &end);
        if (end == p)
            return -1;
        p = end;
    }
    return strspn(p, " \n") == strlen(p) ? 0 : -1;
}

/* Reads n numbers after the keyword of a line; 0 or -1. */
static int read_numbers(const char *line, const char *key, double *out, size_t n)
{
    size_t kl = strlen(key);
    if (strncmp(line, key, kl) != 0 || line[kl] != ' ')
        return -1;
    return parse_numbers(line + kl, out, n);
}

/* Loads REFERENCE into ref (once); aborts the test with the line on any format error. */
static void load_reference(void)
{
    if (ref.n)
        return;
    FILE *f = fopen(REFERENCE, "r");
    ck_assert_msg(f != NULL, "cannot open %s", REFERENCE);
    static char line[1 << 16];
    double tmp[MAX_N];
    size_t row = 0;
    int lineno = 0, have_w0 = 0;
    ref_case *cur = NULL;
    int cur_t = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        ck_assert_msg(strchr(line, '\n') != NULL, "%s:%d: line too long", REFERENCE, lineno);
        if (line[0] == '#')
            continue;
        size_t n = ref.n;
        int ok = 0;
        if (!strncmp(line, "n ", 2)) {
            ok = sscanf(line, "n %zu", &ref.n) == 1 && ref.n > 0 && ref.n <= MAX_N;
        } else if (!strncmp(line, "q ", 2)) {
            ok = read_numbers(line, "q", &ref.q, 1) == 0;
        } else if (!strncmp(line, "c ", 2)) {
            ok = n && read_numbers(line, "c", ref.c, n) == 0;
        } else if (!strncmp(line, "a ", 2)) {
            ok = n && row < n && read_numbers(line, "a", ref.a + row * n, n) == 0;
            row++;
        } else if (!strncmp(line, "w0 ", 3)) {
            ok = n && read_numbers(line, "w0", tmp, n) == 0;
            for (size_t i = 0; ok && i < n; i++)
                ref.w0[i] = (float)tmp[i];
            have_w0 = ok;
        } else if (!strncmp(line, "case ", 5)) {
            ck_assert_msg(!cur || cur_t == cur->steps, "%s:%d: previous case is incomplete",
                          REFERENCE, lineno);
            ck_assert_uint_lt(ref.n_cases, MAX_CASES);
            cur = &ref.cases[ref.n_cases++];
            ok = n && sscanf(line, "case %63s %63s %d", cur->name, cur->plugin, &cur->steps) == 3
                 && cur->steps > 0 && cur->steps <= MAX_STEPS;
            if (ok) {
                cur->w = calloc((size_t)cur->steps * n, sizeof *cur->w);
                ck_assert_ptr_nonnull(cur->w);
            }
            cur_t = 0;
        } else if (!strncmp(line, "hp", 2) && (line[2] == ' ' || line[2] == '\n')) {
            ok = cur && cur_t == 0;
            char *p = line + 2;
            int used;
            while (ok && cur->n_hp < MAX_HP &&
                   sscanf(p, " %63s %lf%n", cur->hp_name[cur->n_hp], &cur->hp_value[cur->n_hp],
                          &used) == 2) {
                cur->n_hp++;
                p += used;
            }
            ok = ok && strspn(p, " \n") == strlen(p);
        } else if (!strncmp(line, "w ", 2)) {
            int t, used;
            ok = cur && sscanf(line, "w %d%n", &t, &used) == 1 && t == cur_t + 1 &&
                 t <= cur->steps && parse_numbers(line + used, tmp, n) == 0;
            for (size_t i = 0; ok && i < n; i++)
                cur->w[(size_t)cur_t * n + i] = (float)tmp[i];
            cur_t++;
        }
        ck_assert_msg(ok, "%s:%d: cannot parse: %.60s", REFERENCE, lineno, line);
    }
    ck_assert_msg(!ferror(f), "%s: read error", REFERENCE);
    fclose(f);
    ck_assert_msg(ref.n && row == ref.n && have_w0 && ref.n_cases,
                  "%s: incomplete (n, a rows, w0, cases)", REFERENCE);
    ck_assert_msg(cur_t == cur->steps, "%s: last case is incomplete", REFERENCE);
}

/* The problem's gradient at w, as make_reference.py's gradient(): double, fixed order, then
 * rounded to float. (The test is compiled with -ffp-contract=off so no step fuses.) */
static void gradient(const float *w, float *g)
{
    const size_t n = ref.n;
    double d[MAX_N];
    for (size_t j = 0; j < n; j++)
        d[j] = (double)w[j] - ref.c[j];
    for (size_t i = 0; i < n; i++) {
        double s = 0.0;
        for (size_t j = 0; j < n; j++)
            s += ref.a[i * n + j] * d[j];
        s += ref.q * (d[i] * d[i] * d[i]);
        g[i] = (float)s;
    }
}

static double rel_diff(float x, float r)
{
    if (isnan(x) || isnan(r))
        return isnan(x) && isnan(r) ? 0.0 : HUGE_VAL;
    double d = fabs((double)x - (double)r);
    double m = fabs((double)r);
    return d == 0.0 ? 0.0 : d / (m > FLT_MIN ? m : FLT_MIN);
}

/* Runs one case; slices = 0: one call over all parameters; otherwise calls over slices of
 * `slices` parameters (the last shorter), state_stride = n. Writes the trajectory to traj. */
static void run_case(const bp_optimizer *o, const double *hp, size_t slices, float *traj,
                     const char *name)
{
    const size_t n = ref.n;
    float w[MAX_N], g[MAX_N];
    float *state = calloc((size_t)(o->n_state ? o->n_state : 1) * n, sizeof *state);
    ck_assert_ptr_nonnull(state);
    memcpy(w, ref.w0, n * sizeof *w);
    if (o->init_state)
        o->init_state(state, w, n, hp);
    const ref_case *c = NULL;
    for (size_t k = 0; k < ref.n_cases; k++)
        if (!strcmp(ref.cases[k].name, name))
            c = &ref.cases[k];
    for (int t = 1; t <= c->steps; t++) {
        gradient(w, g);
        size_t len = slices ? slices : n;
        for (size_t first = 0; first < n; first += len) {
            char err[256] = "";
            size_t m = n - first < len ? n - first : len;
            bp_step_args a = { .w = w + first, .g = g + first, .state = state + first, .n = m,
                               .t = (uint64_t)t, .hp = hp, .err = err, .err_size = sizeof err,
                               .state_stride = n };
            ck_assert_msg(o->step(&a) == 0, "%s: step %d failed: %s", name, t, err);
        }
        memcpy(traj + (size_t)(t - 1) * n, w, n * sizeof *w);
    }
    free(state);
}

START_TEST(optimizer_matches_reference)
{
    const char *opt_name = optimizers[_i];
    load_reference();
    bp_err e;
    bp_registry *r = bp_registry_new(NULL, 0, &e);
    ck_assert_msg(r != NULL, "%s", e.msg);
    const bp_loaded *p = bp_registry_get(r, opt_name, BP_OPTIMIZER, &e);
    ck_assert_msg(p != NULL, "%s", e.msg);
    const bp_optimizer *o = p->desc->u.optimizer;
    const size_t n = ref.n;
    int n_cases = 0, total_steps = 0;
    double worst = 0.0;
    for (size_t k = 0; k < ref.n_cases; k++) {
        const ref_case *c = &ref.cases[k];
        if (strcmp(c->plugin, opt_name))
            continue;
        n_cases++;
        ck_assert_int_ge(c->steps, MIN_STEPS);

        /* the case's hyperparameters, bound as a config's would be */
        bp_pluginref pr = { .name = (char *)opt_name, .mark = { (char *)"reference.txt", 1, 1 },
                            .key_path = (char *)"train.optimizer" };
        pr.hp = calloc(c->n_hp ? c->n_hp : 1, sizeof *pr.hp);
        ck_assert_ptr_nonnull(pr.hp);
        for (size_t h = 0; h < c->n_hp; h++) {
            pr.hp[h].name = strdup(c->hp_name[h]);
            ck_assert_ptr_nonnull(pr.hp[h].name);
            pr.hp[h].value = c->hp_value[h];
            pr.hp[h].mark = pr.mark;
            pr.n_hp++;
        }
        double hp[BP_MAX_HPARAMS];
        ck_assert_msg(bp_plugin_bind(p, &pr, hp, &e) == 0, "%s: %s", c->name, e.msg);
        for (size_t h = 0; h < pr.n_hp; h++)
            free(pr.hp[h].name);
        free(pr.hp);

        float *traj = calloc((size_t)c->steps * n, sizeof *traj);
        ck_assert_ptr_nonnull(traj);
        run_case(o, hp, 0, traj, c->name);
        double maxrel = 0.0;
        int first_t = 0;
        size_t first_i = 0;
        for (int t = 0; t < c->steps; t++)
            for (size_t i = 0; i < n; i++) {
                double d = rel_diff(traj[(size_t)t * n + i], c->w[(size_t)t * n + i]);
                if (d > maxrel) {
                    if (maxrel <= TOLERANCE && d > TOLERANCE) {
                        first_t = t + 1;
                        first_i = i;
                    }
                    maxrel = d;
                }
            }
        /* the reference must actually move: every parameter changes over the run */
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(c->w[(size_t)(c->steps - 1) * n + i] != ref.w0[i],
                          "%s: parameter %zu never moves; the case tests nothing", c->name, i);
        printf("conformance: %-10s %-30s %3d steps x %zu params  max rel diff %.3g\n",
               opt_name, c->name, c->steps, n, maxrel);
        ck_assert_msg(maxrel <= TOLERANCE,
                      "%s: relative difference %.3g > %g (first at step %d, w[%zu] = %a, "
                      "reference %a)", c->name, maxrel, TOLERANCE, first_t, first_i,
                      first_t ? (double)traj[(size_t)(first_t - 1) * n + first_i] : 0.0,
                      first_t ? (double)c->w[(size_t)(first_t - 1) * n + first_i] : 0.0);

        if (o->flags & BP_OPT_ELEMENTWISE) {
            static const size_t slice_len[] = { 1, 5, 8 };
            float *sliced = calloc((size_t)c->steps * n, sizeof *sliced);
            ck_assert_ptr_nonnull(sliced);
            for (size_t s = 0; s < sizeof slice_len / sizeof slice_len[0]; s++) {
                run_case(o, hp, slice_len[s], sliced, c->name);
                ck_assert_msg(!memcmp(sliced, traj, (size_t)c->steps * n * sizeof *traj),
                              "%s: slices of %zu parameters (state_stride %zu) differ from one "
                              "call", c->name, slice_len[s], n);
            }
            free(sliced);
        }
        free(traj);
        if (maxrel > worst)
            worst = maxrel;
        total_steps += c->steps;
    }
    ck_assert_msg(n_cases > 0, "%s: no reference case in %s", opt_name, REFERENCE);
    printf("conformance: %-10s TOTAL %d case(s), %d steps, largest relative difference %.3g "
           "(tolerance %g)\n", opt_name, n_cases, total_steps, worst, TOLERANCE);
    fflush(stdout);
    bp_registry_free(r);
}
END_TEST

/* ---- documented refusals and edge cases -------------------------------------------------- */

static const bp_optimizer *get_opt(bp_registry **r, const char *name)
{
    bp_err e;
    *r = bp_registry_new(NULL, 0, &e);
    ck_assert_msg(*r != NULL, "%s", e.msg);
    const bp_loaded *p = bp_registry_get(*r, name, BP_OPTIMIZER, &e);
    ck_assert_msg(p != NULL, "%s", e.msg);
    return p->desc->u.optimizer;
}

START_TEST(rprop_refuses_min_above_max)
{
    bp_registry *r;
    const bp_optimizer *o = get_opt(&r, "rprop");
    double hp[5] = { 0.01, 0.5, 1.2, 2.0, 1.0 };
    float w[2] = { 1.0f, 2.0f }, g[2] = { 0.5f, -0.5f }, st[4];
    o->init_state(st, w, 2, hp);
    ck_assert(st[0] == 0.0f && st[1] == 0.0f && st[2] == 0.01f && st[3] == 0.01f);
    char err[200];
    bp_step_args a = { .w = w, .g = g, .state = st, .n = 2, .t = 1, .hp = hp, .err = err,
                       .err_size = sizeof err, .state_stride = 2 };
    ck_assert_int_eq(o->step(&a), -1);
    ck_assert_str_eq(err, "rprop: step_size_min must not exceed step_size_max (got 2 > 1)");
    ck_assert(w[0] == 1.0f && w[1] == 2.0f); /* nothing changed */
    hp[3] = 1.0;  /* equal bounds are fine: every step is 1 */
    ck_assert_int_eq(o->step(&a), 0);
    ck_assert(w[0] == 0.0f && w[1] == 3.0f);
    ck_assert_uint_eq(o->flags, BP_OPT_ELEMENTWISE | BP_OPT_FULL_BATCH);
    bp_registry_free(r);
}
END_TEST

/* torch.optim.Rprop: a sign change shrinks the step and skips the update; the next step then
 * sees prev = 0 (no change of the step size). Hand-computed. */
START_TEST(rprop_sign_change)
{
    bp_registry *r;
    const bp_optimizer *o = get_opt(&r, "rprop");
    double hp[5] = { 0.25, 0.5, 2.0, 0.0, 1.0 };
    float w[1] = { 0.0f }, st[2];
    o->init_state(st, w, 1, hp);
    float g[1] = { 1.0f };
    bp_step_args a = { .w = w, .g = g, .state = st, .n = 1, .hp = hp, .state_stride = 1 };
    a.t = 1;
    ck_assert_int_eq(o->step(&a), 0); /* prev 0: step stays 0.25 */
    ck_assert(w[0] == -0.25f && st[1] == 0.25f && st[0] == 1.0f);
    a.t = 2;
    ck_assert_int_eq(o->step(&a), 0); /* same sign: 0.5 */
    ck_assert(w[0] == -0.75f && st[1] == 0.5f);
    g[0] = -3.0f;
    a.t = 3;
    ck_assert_int_eq(o->step(&a), 0); /* sign change: 0.25, no move, prev = 0 */
    ck_assert(w[0] == -0.75f && st[1] == 0.25f && st[0] == 0.0f);
    a.t = 4;
    ck_assert_int_eq(o->step(&a), 0); /* prev 0: step unchanged, move up */
    ck_assert(w[0] == -0.5f && st[1] == 0.25f && st[0] == -3.0f);
    bp_registry_free(r);
}
END_TEST

/* FANN's quickprop by hand (lr 0.5, mu 1.75, decay 0): step 1 is linear, step 2 quadratic,
 * step 3 capped at mu * previous step; weights clamp at +-1500; a zero slope after a large
 * step gives a zero quadratic term (FANN: 0/0 = NaN when the previous slope was 0 too). */
START_TEST(quickprop_by_hand)
{
    bp_registry *r;
    const bp_optimizer *o = get_opt(&r, "quickprop");
    double hp[3] = { 0.5, 1.75, 0.0 };
    float w[1] = { 1.0f }, st[2] = { 0.0f, 0.0f }, g[1] = { -2.0f };
    bp_step_args a = { .w = w, .g = g, .state = st, .n = 1, .t = 1, .hp = hp,
                       .state_stride = 1 };
    ck_assert_int_eq(o->step(&a), 0); /* slope 2, linear: 0.5 * 2 = 1 */
    ck_assert(w[0] == 2.0f && st[0] == 1.0f && st[1] == 2.0f);
    g[0] = -1.0f;                     /* slope 1: 0.5*1 + 1*1/(2-1) = 1.5 */
    ck_assert_int_eq(o->step(&a), 0);
    ck_assert(w[0] == 3.5f && st[0] == 1.5f && st[1] == 1.0f);
    g[0] = -0.9f;                     /* slope 0.9 > shrink*1 = 0.636..: 0.45 + 1.75*1.5 */
    ck_assert_int_eq(o->step(&a), 0);
    ck_assert(st[0] == 0.5f * 0.9f + 1.75f * 1.5f && st[1] == 0.9f);
    g[0] = 0.0f;
    st[1] = 0.0f;                     /* previous slope 0 too: FANN divides 0 by 0 */
    float before = w[0], prev_step = st[0];
    ck_assert_int_eq(o->step(&a), 0);
    ck_assert(w[0] == before && st[0] == 0.0f && prev_step > 0.001f);
    w[0] = 1499.0f;
    st[0] = 0.0f;
    g[0] = -10.0f;                    /* linear step 5 -> clamped */
    ck_assert_int_eq(o->step(&a), 0);
    ck_assert(w[0] == 1500.0f && st[0] == 5.0f);
    bp_registry_free(r);
}
END_TEST

/* FANN 2.2's fann_update_weights_quickprop, literally: slopes summed over num_data rows (the
 * negative gradient), epsilon = learning_rate / num_data, quickprop_decay added to the summed
 * slope (FANN's code, with FANN's float types). */
static void fann_quickprop(float *weights, const float *train_slopes, float *prev_steps,
                           float *prev_train_slopes, size_t n, unsigned num_data,
                           float learning_rate, float mu, float decay)
{
    float epsilon = learning_rate / num_data;
    float shrink_factor = (float)(mu / (1.0 + mu));
    for (size_t i = 0; i < n; i++) {
        float w = weights[i], prev_step = prev_steps[i];
        float slope = train_slopes[i] + decay * w, prev_slope = prev_train_slopes[i];
        float next_step = 0.0f;
        if (prev_step > 0.001) {
            if (slope > 0.0)
                next_step += epsilon * slope;
            if (slope > (shrink_factor * prev_slope))
                next_step += mu * prev_step;
            else if (slope != 0.0f)
                next_step += prev_step * slope / (prev_slope - slope);
        } else if (prev_step < -0.001) {
            if (slope < 0.0)
                next_step += epsilon * slope;
            if (slope < (shrink_factor * prev_slope))
                next_step += mu * prev_step;
            else if (slope != 0.0f)
                next_step += prev_step * slope / (prev_slope - slope);
        } else {
            next_step += epsilon * slope;
        }
        prev_steps[i] = next_step;
        w += next_step;
        weights[i] = w > 1500 ? 1500.0f : w < -1500 ? -1500.0f : w;
        prev_train_slopes[i] = slope;
    }
}

/* quickprop's hyperparameters are FANN's, defaults included (learning_rate 0.7, quickprop_mu
 * 1.75, quickprop_decay -1e-4): given the gradient summed over num_data rows (train.reduction
 * sum) it takes FANN's steps bit for bit, for any num_data; given their mean it takes the same
 * steps (bit for bit when num_data is a power of two, else to float rounding). */
START_TEST(quickprop_is_fann)
{
    bp_registry *r;
    const bp_optimizer *o = get_opt(&r, "quickprop");
    ck_assert_uint_eq(o->n_hparams, 3);
    ck_assert(o->hparams[0].def == 0.7 && o->hparams[1].def == 1.75 &&
              o->hparams[2].def == -1e-4);
    double hp[3] = { o->hparams[0].def, o->hparams[1].def, o->hparams[2].def };
    enum { N = 6, STEPS = 6 };
    static const unsigned rows[] = { 10, 4, 194 };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        float wf[N], ws[N], wm[N], sf[2 * N] = { 0 }, ss[2 * N] = { 0 }, sm[2 * N] = { 0 };
        for (int i = 0; i < N; i++)
            wf[i] = ws[i] = wm[i] = 0.5f - 0.3f * (float)i;
        for (int t = 1; t <= STEPS; t++) {
            float G[N], slopes[N], gm[N];
            for (int i = 0; i < N; i++) {
                /* the summed gradient of a quadratic bowl around 1 + i/4, with a wobble */
                G[i] = (float)rows[k] * (0.8f * (wf[i] - (1.0f + 0.25f * (float)i)) +
                                         0.01f * (float)((t * 7 + i * 3) % 5));
                slopes[i] = -G[i];
                gm[i] = G[i] / (float)rows[k];
            }
            fann_quickprop(wf, slopes, sf, sf + N, N, rows[k], (float)hp[0], (float)hp[1],
                           (float)hp[2]);
            bp_step_args a = { .w = ws, .g = G, .state = ss, .n = N, .t = (uint64_t)t, .hp = hp,
                               .state_stride = N, .rows = rows[k], .summed = 1 };
            ck_assert_int_eq(o->step(&a), 0);
            bp_step_args b = { .w = wm, .g = gm, .state = sm, .n = N, .t = (uint64_t)t, .hp = hp,
                               .state_stride = N, .rows = rows[k], .summed = 0 };
            ck_assert_int_eq(o->step(&b), 0);
            for (int i = 0; i < N; i++) {
                ck_assert_msg(ws[i] == wf[i], "rows %u step %d w[%d]: %.9g, FANN %.9g", rows[k],
                              t, i, (double)ws[i], (double)wf[i]);
                if (rows[k] == 4)
                    ck_assert(wm[i] == wf[i]);
                else
                    ck_assert_msg(fabsf(wm[i] - wf[i]) <= 1e-5f * (1.0f + fabsf(wf[i])),
                                  "mean, rows %u step %d w[%d]: %.9g, FANN %.9g", rows[k], t, i,
                                  (double)wm[i], (double)wf[i]);
            }
            /* the mean path follows FANN's trajectory from FANN's weights */
            memcpy(wm, wf, sizeof wm);
            memcpy(sm, sf, sizeof sm);
        }
    }
    bp_registry_free(r);
}
END_TEST

/* adagrad's init_state fills the accumulator; step uses lr/(1+(t-1)*lr_decay). */
START_TEST(adagrad_init_and_decay)
{
    bp_registry *r;
    const bp_optimizer *o = get_opt(&r, "adagrad");
    double hp[5] = { 1.0, 1.0, 0.0, 3.0, 0.0 };
    float w[1] = { 0.0f }, st[1] = { -1.0f }, g[1] = { 1.0f };
    o->init_state(st, w, 1, hp);
    ck_assert(st[0] == 3.0f);
    bp_step_args a = { .w = w, .g = g, .state = st, .n = 1, .t = 3, .hp = hp,
                       .state_stride = 1 };
    ck_assert_int_eq(o->step(&a), 0); /* sum 4, clr = 1/3: w = -(1/3)/2 */
    ck_assert(st[0] == 4.0f);
    ck_assert(w[0] == (float)(-1.0 / 3.0) / 2.0f);
    bp_registry_free(r);
}
END_TEST

static void expect_bind(const char *name, const char *hp_name, double v, const char *msg)
{
    bp_registry *r;
    bp_err e;
    get_opt(&r, name);
    const bp_loaded *p = bp_registry_get(r, name, BP_OPTIMIZER, &e);
    bp_hpval hv = { .name = strdup(hp_name), .value = v, .mark = { (char *)"c.yaml", 9, 5 } };
    ck_assert_ptr_nonnull(hv.name);
    bp_pluginref pr = { .name = (char *)name, .mark = { (char *)"c.yaml", 8, 3 },
                        .key_path = (char *)"train.optimizer", .n_hp = 1, .hp = &hv };
    double vals[BP_MAX_HPARAMS];
    ck_assert_int_eq(bp_plugin_bind(p, &pr, vals, &e), BP_ECONFIG);
    ck_assert_str_eq(e.msg, msg);
    free(hv.name);
    bp_registry_free(r);
}

START_TEST(hyperparameter_messages)
{
    expect_bind("rprop", "etaminus", 0.5,
                "c.yaml:9:5: train.optimizer.etaminus: rprop has no hyperparameter 'etaminus' "
                "(did you mean 'eta_minus'?; valid: lr, eta_minus, eta_plus, step_size_min, "
                "step_size_max)");
    expect_bind("rprop", "eta_plus", 1.0,
                "c.yaml:9:5: train.optimizer.eta_plus: must be in (1, inf) (got 1)");
    expect_bind("rprop", "eta_minus", 1.0,
                "c.yaml:9:5: train.optimizer.eta_minus: must be in (0, 1) (got 1)");
    expect_bind("adamw", "betas", 0.9,
                "c.yaml:9:5: train.optimizer.betas: adamw has no hyperparameter 'betas' "
                "(did you mean 'beta1'?; valid: lr, beta1, beta2, eps, weight_decay, amsgrad)");
    expect_bind("rmsprop", "alpha", 1.5,
                "c.yaml:9:5: train.optimizer.alpha: must be in [0, 1] (got 1.5)");
    expect_bind("rmsprop", "centered", 0.5,
                "c.yaml:9:5: train.optimizer.centered: must be true or false (got 0.5)");
    expect_bind("adagrad", "initial_accumulator_value", -1,
                "c.yaml:9:5: train.optimizer.initial_accumulator_value: must be in [0, inf) "
                "(got -1)");
    expect_bind("adadelta", "rho", 1.1,
                "c.yaml:9:5: train.optimizer.rho: must be in [0, 1] (got 1.1)");
    expect_bind("quickprop", "decay", 0.001,
                "c.yaml:9:5: train.optimizer.decay: must be in (-inf, 0] (got 0.001)");
    expect_bind("quickprop", "mu", 0.0,
                "c.yaml:9:5: train.optimizer.mu: must be in (0, inf) (got 0)");
}
END_TEST

static Suite *conformance_suite(void)
{
    Suite *s = suite_create("conformance");
    TCase *tc = tcase_create("reference");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, optimizer_matches_reference, 0, N_OPTIMIZERS);
    suite_add_tcase(s, tc);
    tc = tcase_create("rules");
    tcase_add_test(tc, rprop_refuses_min_above_max);
    tcase_add_test(tc, rprop_sign_change);
    tcase_add_test(tc, quickprop_by_hand);
    tcase_add_test(tc, quickprop_is_fann);
    tcase_add_test(tc, adagrad_init_and_decay);
    tcase_add_test(tc, hyperparameter_messages);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    printf("conformance: reference %s, tolerance %g (relative, per parameter and step)\n",
           REFERENCE, TOLERANCE);
    SRunner *sr = srunner_create(conformance_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    for (size_t k = 0; k < ref.n_cases; k++)
        free(ref.cases[k].w);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
