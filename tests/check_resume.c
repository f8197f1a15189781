/* Unit tests of continuing a trial: the runlog's additions (schedule state in /model/schedule,
 * continued_from, bp_trial_record_read) and resume.c's config comparison and output check.
 * (End to end: tests/continue.sh.) */
#include "autoconf.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model.h"
#include "resume.h"
#include "runindex.h"
#include "runlog.h"
#include "trialfile.h"
#include "trialread.h"
#include "schedule.h"
#include "train.h"

static char tmp[256];

/* tmp/FMT (FMT with one %s for a); 16 results live at once. */
static const char *path(const char *fmt, const char *a)
{
    static char buf[16][1024];
    static int k;
    char *p = buf[k++ % 16];
    char rel[512];
    snprintf(rel, sizeof rel, fmt, a);
    snprintf(p, sizeof buf[0], "%.255s/%.511s", tmp, rel);
    return p;
}

/* ---- comparing canonical configs ---- */

#define DUMP(ep, opt, act) \
    "experiment: x\nseed: 1\ndata:\n  train: builtin:xor\n  validation: 0\nmodel:\n" \
    "  layers: [2, 3, 3, 1]\n  activation:" act "\n  output: {name: sigmoid}\ntrain:\n" \
    "  epochs: " ep "\n  batch_size: 32\n  optimizer: " opt "\n  schedule: {name: constant}\n" \
    "output: runs\n"
#define LIST "\n    - {name: tanh}\n    - {name: relu}"
#define LIST2 "\n    - {name: tanh}\n    - {name: elu}"

START_TEST(test_compare)
{
    bp_err e;
    const char *a = DUMP("10", "{name: sgd, lr: 0.1}", LIST);
    ck_assert_int_eq(bp_resume_compare_configs(a, a, "c.yaml", "t.h5", &e), 0);
    /* train.epochs may differ */
    ck_assert_int_eq(bp_resume_compare_configs(a, DUMP("3", "{name: sgd, lr: 0.1}", LIST),
                                               "c.yaml", "t.h5", &e), 0);
    ck_assert_int_eq(bp_resume_compare_configs(a, DUMP("3", "{name: sgd, lr: 0.2}", LIST),
                                               "c.yaml", "t.h5", &e), BP_ECONFIG);
    ck_assert_str_eq(e.msg, "c.yaml: train.optimizer differs from the config of t.h5: {name: sgd, "
                            "lr: 0.1} here, {name: sgd, lr: 0.2} there (only train.epochs may "
                            "change when continuing)");
    /* an item of a list */
    ck_assert_int_eq(bp_resume_compare_configs(a, DUMP("10", "{name: sgd, lr: 0.1}", LIST2),
                                               "c.yaml", "t.h5", &e), BP_ECONFIG);
    ck_assert_str_eq(e.msg, "c.yaml: model.activation[1] differs from the config of t.h5: {name: "
                            "relu} here, {name: elu} there (only train.epochs may change when "
                            "continuing)");
    /* a list against one value */
    const char *one = DUMP("10", "{name: sgd, lr: 0.1}", " {name: tanh}");
    ck_assert_int_eq(bp_resume_compare_configs(a, one, "c.yaml", "t.h5", &e), BP_ECONFIG);
    ck_assert_str_eq(e.msg, "c.yaml: model.activation differs from the config of t.h5: (a list) "
                            "here, {name: tanh} there (only train.epochs may change when "
                            "continuing)");
    /* a key only one side has (a config written by an older bprun, say) */
    const char *b = "experiment: x\nseed: 1\n";
    const char *c = "experiment: x\nseed: 1\nextra: 2\n";
    ck_assert_int_eq(bp_resume_compare_configs(b, c, "c.yaml", "t.h5", &e), BP_ECONFIG);
    ck_assert_str_eq(e.msg, "c.yaml: extra differs from the config of t.h5: (none) here, 2 there "
                            "(only train.epochs may change when continuing)");
    ck_assert_int_eq(bp_resume_compare_configs(c, b, "c.yaml", "t.h5", &e), BP_ECONFIG);
    ck_assert_str_eq(e.msg, "c.yaml: extra differs from the config of t.h5: 2 here, (none) there "
                            "(only train.epochs may change when continuing)");
    /* same value under another key */
    ck_assert_int_eq(bp_resume_compare_configs("seed: 1\n", "experiment: 1\n", "c", "t", &e),
                     BP_ECONFIG);
    ck_assert_str_eq(e.msg, "c: seed differs from the config of t: 1 here, (none) there (only "
                            "train.epochs may change when continuing)");
    /* epochs elsewhere than under train is compared */
    ck_assert_int_eq(bp_resume_compare_configs("x:\n  epochs: 1\n", "x:\n  epochs: 2\n", "c", "t",
                                               &e), BP_ECONFIG);
}
END_TEST

/* ---- trial files: schedule state, continued_from, the record reader ---- */

static const char *const cols[] = { "epoch", "loss", "lr" };

/* Writes RUN/trials/<id>.h5 with `rows` epochs; finished unless part. */
static void write_trial(const char *dir, unsigned id, int rows, int part, const char *cont)
{
    bp_err e;
    bp_run *r = bp_run_create(dir, 1, &e);
    ck_assert_msg(r != NULL, "%s", e.msg);
    bp_trial_meta meta = { .trial = id, .seed = 77, .config_text = "text", .resolved_config =
                           "experiment: x\ntrain:\n  epochs: 9\n", .columns = cols,
                           .n_columns = 3, .threads = 1, .continued_from = cont,
                           .continued_at = 4 };
    bp_trial_file *t = bp_trial_create(r, &meta, &e);
    ck_assert_msg(t != NULL, "%s", e.msg);
    for (int i = 0; i < rows; i++) {
        double v[3] = { i + 1, 1.0 / (i + 1), 0.1 * pow(0.5, i) };
        ck_assert_int_eq(bp_trial_append(t, v, &e), 0);
    }
    int sizes[2] = { 2, 1 };
    bp_model *m = bp_model_new(sizes, 2, &e);
    ck_assert_ptr_nonnull(m);
    m->act[0].name = "sigmoid";
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = (float)i / 3.0f;
    float state[3] = { 1.5f, -2.5f, 3.25f };
    double st[BP_LR_NSTATE] = { rows, 0.025, INFINITY, 2, 1 };
    const char *hn[1] = { "lr" };
    double hp[1] = { 0.025 };
    bp_opt_record rec = { .name = "sgd", .hp_names = hn, .hp = hp, .n_hp = 1, .state = state,
                          .n_state = 1, .step = 12, .schedule = "plateau",
                          .sched_names = bp_lr_state_names, .sched_state = st,
                          .n_sched = BP_LR_NSTATE };
    ck_assert_int_eq(bp_trial_save_model(t, m, &rec, &e), 0);
    bp_model_free(m);
    if (part) {
        bp_trial_abandon(t);
    } else {
        ck_assert_int_eq(bp_trial_finish(t, "interrupted", "stopped", rows, 1.0, &e), 0);
        bp_trial_summary s = { .trial = id, .seed = 77, .status = "interrupted", .epochs = rows };
        s.final_loss = s.final_val_loss = s.final_accuracy = s.final_val_accuracy = NAN;
        s.best_val_loss = s.final_test_loss = s.final_test_accuracy = NAN;
        ck_assert_int_eq(bp_run_write_index(r, "text", "resolved", &s, 1, 1, &e), 0);
    }
    bp_run_close(r);
}

START_TEST(test_record)
{
    bp_err e;
    char run[1024], run3[1040];
    snprintf(run, sizeof run, "%s", path("%s", "run"));
    snprintf(run3, sizeof run3, "%s#3", run);
    write_trial(run, 3, 5, 0, "old/trials/0003.h5");
    char ways[3][1024];
    snprintf(ways[0], sizeof ways[0], "%s", path("run/trials/0003.h5%s", ""));
    snprintf(ways[1], sizeof ways[1], "%s", path("run#3%s", ""));
    snprintf(ways[2], sizeof ways[2], "%s", path("run/index.h5#3%s", ""));
    for (int w = 0; w < 3; w++) {
        bp_trial_record *r = bp_trial_record_read(ways[w], cols, 3, &e);
        ck_assert_msg(r != NULL, "%s: %s", ways[w], e.msg);
        ck_assert_str_eq(r->file, path("run/trials/0003.h5%s", ""));
        ck_assert_str_eq(r->where, w == 2 ? path("run/index.h5#/trials/0003%s", "") : r->file);
        ck_assert_uint_eq(r->trial, 3);
        ck_assert_uint_eq(r->seed, 77);
        ck_assert_str_eq(r->status, "interrupted");
        ck_assert_int_eq(r->epochs_done, 5);
        ck_assert_str_eq(r->resolved_config, "experiment: x\ntrain:\n  epochs: 9\n");
        ck_assert_uint_eq(r->n_rows, 5);
        ck_assert_uint_eq(r->n_columns, 3);
        for (int i = 0; i < 5; i++) {
            ck_assert(r->rows[i * 3 + 0] == i + 1);
            ck_assert(r->rows[i * 3 + 1] == 1.0 / (i + 1));
            ck_assert(r->rows[i * 3 + 2] == 0.1 * pow(0.5, i));
        }
        bp_trial_record_free(r);
        /* the saved model carries the schedule state */
        bp_saved_model *s = bp_saved_model_read(ways[w], &e);
        ck_assert_msg(s != NULL, "%s", e.msg);
        ck_assert_str_eq(s->opt_name, "sgd");
        ck_assert_uint_eq(s->opt_step, 12);
        ck_assert(s->opt_state[2] == 3.25f);
        ck_assert_str_eq(s->sched_name, "plateau");
        ck_assert_uint_eq(s->n_sched, BP_LR_NSTATE);
        for (int k = 0; k < BP_LR_NSTATE; k++)
            ck_assert_str_eq(s->sched_names[k], bp_lr_state_names[k]);
        ck_assert(s->sched_state[0] == 5 && s->sched_state[1] == 0.025 &&
                  s->sched_state[2] == INFINITY && s->sched_state[4] == 1);
        bp_saved_model_free(s);
    }
    /* the columns asked for, in the order asked; a missing one is named */
    const char *two[] = { "lr", "epoch" };
    bp_trial_record *r = bp_trial_record_read(run3, two, 2, &e);
    ck_assert_msg(r != NULL, "%s", e.msg);
    ck_assert(r->rows[0] == 0.1 && r->rows[1] == 1 && r->rows[9] == 5);
    bp_trial_record_free(r);
    /* val_ columns are not stored without validation data: read as NaN */
    const char *val[] = { "epoch", "val_loss" };
    ck_assert_ptr_nonnull((r = bp_trial_record_read(run3, val, 2, &e)));
    ck_assert(r->n_rows == 5 && r->rows[0] == 1 && isnan(r->rows[1]) && isnan(r->rows[9]));
    bp_trial_record_free(r);
    const char *bad[] = { "epoch", "grad_norm" };
    ck_assert_ptr_null(bp_trial_record_read(run3, bad, 2, &e));
    ck_assert_int_eq(e.code, BP_EIO);
    ck_assert_str_eq(e.msg, path("run/trials/0003.h5#/epochs/grad_norm: dataset missing or "
                                 "unreadable%s", ""));
    ck_assert_ptr_null(bp_trial_record_read(path("run/index.h5#3%s", ""), bad, 2, &e));
    ck_assert_str_eq(e.msg, path("run/index.h5#/trials/0003/epochs/grad_norm: dataset missing or "
                                 "unreadable%s", ""));
    /* no trial 0 in that run */
    ck_assert_ptr_null(bp_trial_record_read(run, cols, 3, &e));
    ck_assert_str_eq(e.msg, path("run/trials/0000.h5: cannot open: No such file or "
                                 "directory%s", ""));
}
END_TEST

START_TEST(test_record_part)
{
    bp_err e;
    write_trial(path("%s", "prun"), 0, 2, 1, NULL);
    ck_assert_ptr_null(bp_trial_record_read(path("%s", "prun"), cols, 3, &e));
    ck_assert_str_eq(e.msg, path("prun/trials/0000.h5: trial has not finished (only "
                                 "%s/prun/trials/0000.h5.part exists)", tmp));
    /* the .part file itself reads, without epochs_done; resume refuses it by its status */
    bp_trial_record *r = bp_trial_record_read(path("prun/trials/0000.h5.part%s", ""), cols, 3, &e);
    ck_assert_msg(r != NULL, "%s", e.msg);
    ck_assert_int_eq(r->epochs_done, -1);
    ck_assert_str_eq(r->status, "running");
    ck_assert_uint_eq(r->n_rows, 2);
    bp_trial_record_free(r);
}
END_TEST

START_TEST(test_output)
{
    bp_err e;
    write_trial(path("%s", "crun"), 0, 3, 0, "a/trials/0000.h5");
    bp_trial_record *r = bp_trial_record_read(path("%s", "crun"), cols, 3, &e);
    ck_assert_msg(r != NULL, "%s", e.msg);
    bp_resume res = { .rec = r };
    /* the run folder holding the trial is refused, however it is spelled */
    ck_assert_int_eq(bp_resume_check_output(&res, path("%s", "crun"), &e), BP_EUSAGE);
    ck_assert_str_eq(e.msg, path("crun: holds the trial being continued (%s/crun/trials/0000.h5); "
                                 "give the new run another folder with -o DIR", tmp));
    ck_assert_int_eq(bp_resume_check_output(&res, path("crun/../crun/%s", ""), &e), BP_EUSAGE);
    ck_assert_int_eq(bp_resume_check_output(&res, path("%s", "other"), &e), 0);
    ck_assert_int_eq(bp_resume_check_output(&res, path("%s", "crun/trials"), &e), 0);
    bp_trial_record_free(r);
}
END_TEST

int main(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/check_resume.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmp)) {
        perror(tmp);
        return 99;
    }
    Suite *s = suite_create("resume");
    TCase *tc = tcase_create("resume");
    tcase_add_test(tc, test_compare);
    tcase_add_test(tc, test_record);
    tcase_add_test(tc, test_record_part);
    tcase_add_test(tc, test_output);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp);
    return failed ? 1 : 0;
}
