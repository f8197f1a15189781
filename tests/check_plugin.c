/* Unit tests of the plugin host (src/plugin.c), the bundled plugins and the fake ones. */
#include "autoconf.h"
#include "plugin.h"
#include "bp_paths.h"
#include <bprun/vexp.h>

#include <check.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef BP_TEST_BUILDDIR
#error "BP_TEST_BUILDDIR must name the build tree"
#endif

#define PLUGIN_DIR BP_TEST_BUILDDIR "/plugins/.libs"

static const char *fake_dir(void)
{
    const char *d = getenv("BP_FAKE_DIR");
    return d && *d ? d : BP_TEST_BUILDDIR "/tests/.libs";
}

static const char *path_in(const char *dir, const char *file)
{
    static char buf[4][PATH_MAX + 64];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, PATH_MAX + 64, "%.*s/%s", PATH_MAX - 1, dir, file);
    return b;
}

static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
    static char buf[4][2048];
    static int next;
    char *b = buf[next++ % 4];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, 2048, f, ap);
    va_end(ap);
    return b;
}

/* The search path every registry test uses unless it sets its own. */
static void use_default_path(void)
{
    ck_assert_int_eq(setenv("BPRUN_PLUGIN_PATH", fmt("%s:%s", PLUGIN_DIR, fake_dir()), 1), 0);
}

static char tmpdir[PATH_MAX];

static void make_tmpdir(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/check_plugin.XXXXXX", t && *t ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(const char *const *files)
{
    for (size_t i = 0; files[i]; i++)
        unlink(path_in(tmpdir, files[i]));
    ck_assert_int_eq(rmdir(tmpdir), 0);
}

/* ---- fake plugins: each rejected with its own message ---------------------------------- */

static void expect_fake(const char *file, const char *problem)
{
    bp_loaded p;
    bp_err e;
    bp_err_clear(&e);
    const char *path = path_in(fake_dir(), file);
    ck_assert_int_eq(bp_plugin_load_file(path, &p, &e), BP_EPLUGIN);
    ck_assert_int_eq(e.code, BP_EPLUGIN);
    ck_assert_str_eq(e.msg, fmt("%s: %s", path, problem));
    ck_assert_ptr_null(p.handle);
    ck_assert_ptr_null(p.path);
}

START_TEST(fake_no_entry)
{
    expect_fake("fake_noentry.so",
                "no bp_plugin_entry symbol (not a bprun plugin, or built without exporting it)");
}
END_TEST

START_TEST(fake_null_entry)
{
    expect_fake("fake_nullentry.so", "bp_plugin_entry returned NULL");
}
END_TEST

START_TEST(fake_wrong_abi)
{
    expect_fake("fake_abi.so", "built for plugin ABI 7, this bprun supports 1; rebuild it "
                               "against this bprun's bprun/plugin.h");
}
END_TEST

START_TEST(fake_wrong_size)
{
    expect_fake("fake_size.so", fmt("descriptor size 16 is smaller than bp_plugin (%zu bytes); "
                                    "the plugin must set size = sizeof(bp_plugin)",
                                    sizeof(bp_plugin)));
}
END_TEST

START_TEST(fake_null_step)
{
    expect_fake("fake_nostep.so", "fake_nostep: required slot step is NULL");
}
END_TEST

START_TEST(fake_null_forward)
{
    expect_fake("fake_noforward.so", "fake_noforward: required slot forward is NULL");
}
END_TEST

START_TEST(fake_bad_name)
{
    expect_fake("fake_badname.so",
                "invalid plugin name 'Bad-Name' (must match [a-z_][a-z0-9_]*, at most 64 characters)");
}
END_TEST

START_TEST(fake_unresolved_symbol)
{
    expect_fake("fake_unresolved.so",
                "cannot load (dlopen): undefined symbol: bp_fake_undefined_function");
}
END_TEST

START_TEST(fake_duplicate_hparam)
{
    expect_fake("fake_duphp.so", "fake_duphp: hyperparameter 'lr' is declared twice");
}
END_TEST

START_TEST(fake_default_out_of_range)
{
    expect_fake("fake_defrange.so", "fake_defrange: hyperparameter 'lr': default 2 is outside (0, 1]");
}
END_TEST

START_TEST(fake_kind_mismatch)
{
    bp_err e;
    bp_err_clear(&e);
    use_default_path();
    bp_registry *r = bp_registry_new(NULL, 0, &e);
    ck_assert_ptr_nonnull(r);
    const char *path = path_in(fake_dir(), "fake_kind.so");
    ck_assert_ptr_null(bp_registry_get(r, "fake_kind", BP_OPTIMIZER, &e));
    ck_assert_int_eq(e.code, BP_EPLUGIN);
    ck_assert_str_eq(e.msg, fmt("%s is an activation, not an optimizer", path));
    bp_pluginref ref = { .name = (char *)path, .mark = { (char *)"c.yaml", 3, 14 },
                         .key_path = (char *)"train.optimizer" };
    bp_err_clear(&e);
    ck_assert_ptr_null(bp_registry_get_ref(r, &ref, BP_OPTIMIZER, &e));
    ck_assert_int_eq(e.code, BP_EPLUGIN);
    ck_assert_str_eq(e.msg, fmt("c.yaml:3:14: train.optimizer: %s is an activation, but "
                                "train.optimizer needs an optimizer", path));
    /* the same file is a fine activation */
    const bp_loaded *p = bp_registry_get(r, "fake_kind", BP_ACTIVATION, &e);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->desc->name, "fake_kind");
    bp_registry_free(r);
}
END_TEST

START_TEST(missing_and_not_regular)
{
    bp_loaded p;
    bp_err e;
    const char *missing = path_in(fake_dir(), "no_such_plugin.so");
    ck_assert_int_eq(bp_plugin_load_file(missing, &p, &e), BP_EPLUGIN);
    ck_assert_str_eq(e.msg, fmt("%s: no such file", missing));
    ck_assert_int_eq(bp_plugin_load_file(fake_dir(), &p, &e), BP_EPLUGIN);
    ck_assert_str_eq(e.msg, fmt("%s: not a regular file (a directory)", fake_dir()));
}
END_TEST

START_TEST(not_a_shared_object)
{
    make_tmpdir();
    const char *path = path_in(tmpdir, "notso.so");
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("This is a text file named like a plugin. It is long enough to hold an ELF header.\n", f);
    ck_assert_int_eq(fclose(f), 0);
    bp_loaded p;
    bp_err e;
    ck_assert_int_eq(bp_plugin_load_file(path, &p, &e), BP_EPLUGIN);
    const char *want = fmt("%s: cannot load (dlopen): ", path);
    ck_assert_msg(strncmp(e.msg, want, strlen(want)) == 0, "got: %s", e.msg);
    ck_assert_msg(strstr(e.msg, "invalid ELF header"), "got: %s", e.msg);
    const char *files[] = { "notso.so", NULL };
    remove_tmpdir(files);
}
END_TEST

/* ---- descriptor checks on in-memory descriptors ------------------------------------------ */

static void fwd(const float *z, float *a, size_t n, const double *hp)
{
    (void)hp;
    for (size_t i = 0; i < n; i++)
        a[i] = z[i];
}

static void der(const float *z, const float *a, float *d, size_t n, const double *hp)
{
    (void)z;
    (void)a;
    (void)hp;
    for (size_t i = 0; i < n; i++)
        d[i] = 1.0f;
}

static int step(const bp_step_args *a)
{
    (void)a;
    return 0;
}

static bp_hparam t_hp[BP_MAX_HPARAMS + 1];
static bp_optimizer t_opt;
static bp_activation t_act;
static bp_plugin t_desc;

static void reset_desc(void)
{
    for (size_t i = 0; i < BP_MAX_HPARAMS + 1; i++) {
        static char names[BP_MAX_HPARAMS + 1][8];
        snprintf(names[i], sizeof names[i], "h%zu", i);
        t_hp[i] = (bp_hparam){ names[i], 0.5, 0.0, 1.0, BP_HP_REAL, NULL };
    }
    t_hp[0] = (bp_hparam){ "lr", 0.1, 0.0, HUGE_VAL, BP_HP_MIN_OPEN, "learning rate" };
    t_hp[1] = (bp_hparam){ "k", 3.0, 1.0, 10.0, BP_HP_INTEGER, "an integer" };
    t_hp[2] = (bp_hparam){ "flag", 1.0, 0.0, 1.0, BP_HP_BOOL, "a bool" };
    t_opt = (bp_optimizer){ sizeof(bp_optimizer), 3, t_hp, 1, BP_OPT_ELEMENTWISE, NULL, step, 0 };
    t_act = (bp_activation){ sizeof(bp_activation), 0, NULL, fwd, der, NULL, 0 };
    t_desc = (bp_plugin){ BP_PLUGIN_ABI, sizeof(bp_plugin), BP_OPTIMIZER, "topt", "a test",
                          { .optimizer = &t_opt } };
}

static void expect_desc(const char *problem)
{
    bp_err e;
    bp_err_clear(&e);
    ck_assert_int_eq(bp_plugin_check_desc(&t_desc, "mem.so", &e), BP_EPLUGIN);
    ck_assert_str_eq(e.msg, fmt("mem.so: %s", problem));
    reset_desc();
}

START_TEST(desc_rules)
{
    bp_err e;
    reset_desc();
    ck_assert_int_eq(bp_plugin_check_desc(&t_desc, "mem.so", &e), 0);
    t_desc.size += 8; /* a newer header of the same ABI that appended fields */
    t_opt.size += 8;
    ck_assert_int_eq(bp_plugin_check_desc(&t_desc, "mem.so", &e), 0);
    reset_desc();
    /* a plugin built before `bundled` was appended still loads */
    t_opt.size = BP_OPTIMIZER_SIZE_V1;
    ck_assert_uint_eq(BP_OPTIMIZER_SIZE_V1, 40);
    ck_assert_int_eq(bp_plugin_check_desc(&t_desc, "mem.so", &e), 0);
    t_desc.kind = BP_ACTIVATION;
    t_desc.u.activation = &t_act;
    t_act.size = BP_ACTIVATION_SIZE_V1;
    ck_assert_uint_eq(BP_ACTIVATION_SIZE_V1, 40);
    ck_assert_int_eq(bp_plugin_check_desc(&t_desc, "mem.so", &e), 0);
    reset_desc();

    ck_assert_int_eq(bp_plugin_check_desc(NULL, "mem.so", &e), BP_EPLUGIN);
    ck_assert_str_eq(e.msg, "mem.so: bp_plugin_entry returned NULL");
    t_desc.kind = 3;
    expect_desc("unknown plugin kind 3 (expected 1 = optimizer or 2 = activation)");
    t_desc.name = NULL;
    expect_desc("invalid plugin name '(NULL)' (must match [a-z_][a-z0-9_]*, at most 64 characters)");
    t_desc.name = "";
    expect_desc("invalid plugin name '' (must match [a-z_][a-z0-9_]*, at most 64 characters)");
    t_desc.name = "9lives";
    expect_desc("invalid plugin name '9lives' (must match [a-z_][a-z0-9_]*, at most 64 characters)");
    t_desc.summary = NULL;
    expect_desc("topt: summary must be one non-empty line (got NULL)");
    t_desc.summary = "two\nlines";
    expect_desc("topt: summary must be one non-empty line (got a bad string)");
    t_desc.u.optimizer = NULL;
    expect_desc("topt: optimizer table u.optimizer is NULL");
    t_opt.size = 8;
    expect_desc(fmt("topt: bp_optimizer size 8 is smaller than this bprun's (%zu bytes); the "
                    "plugin must set size = sizeof(bp_optimizer)", BP_OPTIMIZER_SIZE_V1));
    t_opt.n_state = 65;
    expect_desc("topt: n_state 65 is too large (at most 64 floats per parameter)");
    t_opt.flags = 0x10;
    expect_desc("topt: unknown optimizer flags 0x10");

    t_desc.kind = BP_ACTIVATION;
    t_desc.u.activation = &t_act;
    ck_assert_int_eq(bp_plugin_check_desc(&t_desc, "mem.so", &e), 0);
    t_desc.kind = BP_ACTIVATION;
    t_desc.u.activation = NULL;
    expect_desc("topt: activation table u.activation is NULL");
    t_desc.kind = BP_ACTIVATION;
    t_desc.u.activation = &t_act;
    t_act.derivative = NULL;
    expect_desc("topt: required slot derivative is NULL");
    t_desc.kind = BP_ACTIVATION;
    t_desc.u.activation = &t_act;
    t_act.size = 4;
    expect_desc(fmt("topt: bp_activation size 4 is smaller than this bprun's (%zu bytes); the "
                    "plugin must set size = sizeof(bp_activation)", BP_ACTIVATION_SIZE_V1));
    t_desc.kind = BP_ACTIVATION;
    t_desc.u.activation = &t_act;
    t_act.n_hparams = 1;
    expect_desc("topt: n_hparams is 1 but hparams is NULL");
}
END_TEST

START_TEST(desc_hparam_rules)
{
    reset_desc();
    t_opt.n_hparams = BP_MAX_HPARAMS + 1;
    expect_desc("topt declares 33 hyperparameters (at most 32)");
    t_opt.n_hparams = BP_MAX_HPARAMS;
    bp_err e;
    ck_assert_int_eq(bp_plugin_check_desc(&t_desc, "mem.so", &e), 0);
    reset_desc();
    t_opt.hparams = NULL;
    expect_desc("topt: n_hparams is 3 but hparams is NULL");
    t_hp[1].name = "Lr";
    expect_desc("topt: hyperparameter 1 has an invalid name 'Lr' (must match [a-z_][a-z0-9_]*, "
                "at most 64 characters)");
    t_hp[1].name = NULL;
    expect_desc("topt: hyperparameter 1 has an invalid name '(NULL)' (must match "
                "[a-z_][a-z0-9_]*, at most 64 characters)");
    t_hp[2].name = "name";
    expect_desc("topt: hyperparameter name 'name' is reserved (the config uses it for the "
                "plugin's name)");
    t_hp[2].name = "k";
    expect_desc("topt: hyperparameter 'k' is declared twice");
    t_hp[1].flags = 1 << 7;
    expect_desc("topt: hyperparameter 'k' has unknown flags 0x80");
    t_hp[1].def = NAN;
    expect_desc("topt: hyperparameter 'k': default, min and max must not be NaN");
    t_hp[1].min = 11.0;
    expect_desc("topt: hyperparameter 'k': min 11 is greater than max 10");
    t_hp[1].def = 0.5;
    expect_desc("topt: hyperparameter 'k': default 0.5 is outside [1, 10]");
    t_hp[1].def = 2.5;
    expect_desc("topt: hyperparameter 'k': default 2.5 is not an integer");
    t_hp[0].def = 0.0;
    expect_desc("topt: hyperparameter 'lr': default 0 is outside (0, inf)");
    t_hp[0].def = HUGE_VAL;
    expect_desc("topt: hyperparameter 'lr': default inf is outside (0, inf)");
    t_hp[2].max = 2.0;
    expect_desc("topt: hyperparameter 'flag' is BOOL, so its range must be [0, 1] with no other "
                "flags (got [0, 2])");
    t_hp[2].flags |= BP_HP_MAX_OPEN;
    expect_desc("topt: hyperparameter 'flag' is BOOL, so its range must be [0, 1] with no other "
                "flags (got [0, 1))");
    t_hp[2].def = 0.5;
    expect_desc("topt: hyperparameter 'flag': default 0.5 is not an integer");
}
END_TEST

/* ---- registry: search path, cache, not found, scan --------------------------------------- */

START_TEST(registry_real_plugins)
{
    bp_err e;
    bp_err_clear(&e);
    use_default_path();
    bp_registry *r = bp_registry_new(NULL, 0, &e);
    ck_assert_ptr_nonnull(r);
    const char *const *dirs;
    ck_assert_uint_eq(bp_registry_dirs(r, &dirs), 3);
    ck_assert_str_eq(dirs[0], PLUGIN_DIR);
    ck_assert_str_eq(dirs[1], fake_dir());
    ck_assert_str_eq(dirs[2], BP_PLUGINDIR);

    const bp_loaded *sgd = bp_registry_get(r, "sgd", BP_OPTIMIZER, &e);
    ck_assert_msg(sgd != NULL, "%s", e.msg);
    char *real = realpath(PLUGIN_DIR "/sgd.so", NULL);
    ck_assert_str_eq(sgd->path, real);
    free(real);
    ck_assert_ptr_eq(bp_registry_get(r, "sgd", BP_OPTIMIZER, &e), sgd);
    ck_assert_ptr_eq(bp_registry_get(r, PLUGIN_DIR "/sgd.so", BP_OPTIMIZER, &e), sgd);
    ck_assert_ptr_eq(bp_registry_get(r, "sgd", 0, &e), sgd);

    const bp_plugin *d = sgd->desc;
    ck_assert_str_eq(d->name, "sgd");
    ck_assert_int_eq(d->kind, BP_OPTIMIZER);
    ck_assert_ptr_nonnull(strstr(d->summary, "torch.optim.SGD"));
    const bp_optimizer *o = d->u.optimizer;
    ck_assert_uint_eq(o->n_hparams, 5);
    ck_assert_uint_eq(o->n_state, 1);
    ck_assert_uint_eq(o->flags, BP_OPT_ELEMENTWISE);
    ck_assert_ptr_null(o->init_state);
    static const char *names[] = { "lr", "momentum", "dampening", "nesterov", "weight_decay" };
    static const double defs[] = { 0.01, 0, 0, 0, 0 };
    static const double maxs[] = { HUGE_VAL, HUGE_VAL, 1, 1, HUGE_VAL };
    static const uint32_t flags[] = { BP_HP_MIN_OPEN, 0, 0, BP_HP_BOOL, 0 };
    for (int i = 0; i < 5; i++) {
        ck_assert_str_eq(o->hparams[i].name, names[i]);
        ck_assert(o->hparams[i].def == defs[i]);
        ck_assert(o->hparams[i].min == 0.0);
        ck_assert(o->hparams[i].max == maxs[i]);
        ck_assert_uint_eq(o->hparams[i].flags, flags[i]);
        ck_assert_ptr_nonnull(o->hparams[i].help);
    }

    static const char *acts[] = { "sigmoid", "tanh", "relu", "identity", "leaky_relu", "elu",
                                  "softplus", "softsign", "gelu" };
    static const uint32_t n_hp[] = { 0, 0, 0, 0, 1, 1, 2, 0, 0 };
    for (int i = 0; i < 9; i++) {
        const bp_loaded *p = bp_registry_get(r, acts[i], BP_ACTIVATION, &e);
        ck_assert_msg(p != NULL, "%s", e.msg);
        ck_assert_str_eq(p->desc->name, acts[i]);
        ck_assert_uint_eq(p->desc->u.activation->n_hparams, n_hp[i]);
        ck_assert_ptr_nonnull(p->desc->u.activation->second);
        ck_assert_ptr_nonnull(strstr(p->desc->summary, "torch"));
    }
    bp_registry_free(r);
}
END_TEST

START_TEST(registry_not_found)
{
    bp_err e;
    use_default_path();
    bp_registry *r = bp_registry_new(NULL, 0, &e);
    ck_assert_ptr_nonnull(r);
    char searched[3 * PATH_MAX];
    snprintf(searched, sizeof searched, "%s, %s, %s", PLUGIN_DIR, fake_dir(), BP_PLUGINDIR);
    ck_assert_ptr_null(bp_registry_get(r, "sgdd", BP_OPTIMIZER, &e));
    ck_assert_int_eq(e.code, BP_EPLUGIN);
    ck_assert_str_eq(e.msg, fmt("optimizer 'sgdd' not found (did you mean 'sgd'?); searched: %s",
                                searched));
    ck_assert_ptr_null(bp_registry_get(r, "zzzzzzzz", BP_ACTIVATION, &e));
    ck_assert_str_eq(e.msg, fmt("activation 'zzzzzzzz' not found; searched: %s", searched));
    ck_assert_ptr_null(bp_registry_get(r, "Sgd!", BP_OPTIMIZER, &e));
    ck_assert_str_eq(e.msg, "'Sgd!' is not a valid optimizer name (a name matches "
                            "[a-z_][a-z0-9_]*; a path contains '/' or ends in .so)");
    ck_assert_ptr_null(bp_registry_get(r, "", BP_OPTIMIZER, &e));
    ck_assert_str_eq(e.msg, "empty optimizer name");
    ck_assert_ptr_null(bp_registry_get(r, "./nowhere/sgd.so", BP_OPTIMIZER, &e));
    ck_assert_str_eq(e.msg, "./nowhere/sgd.so: no such file");
    /* relu found by search but of the other kind */
    ck_assert_ptr_null(bp_registry_get(r, "relu", BP_OPTIMIZER, &e));
    ck_assert_str_eq(e.msg, fmt("%s/relu.so is an activation, not an optimizer", PLUGIN_DIR));
    /* a broken file found by search reports its own problem */
    ck_assert_ptr_null(bp_registry_get(r, "fake_abi", BP_OPTIMIZER, &e));
    ck_assert_str_eq(e.msg, fmt("%s/fake_abi.so: built for plugin ABI 7, this bprun supports 1; "
                                "rebuild it against this bprun's bprun/plugin.h", fake_dir()));
    bp_pluginref ref = { .name = (char *)"sgdd", .mark = { (char *)"c.yaml", 7, 14 },
                         .key_path = (char *)"train.optimizer" };
    ck_assert_ptr_null(bp_registry_get_ref(r, &ref, BP_OPTIMIZER, &e));
    ck_assert_str_eq(e.msg, fmt("c.yaml:7:14: train.optimizer: optimizer 'sgdd' not found (did "
                                "you mean 'sgd'?); searched: %s", searched));
    bp_registry_free(r);
}
END_TEST

START_TEST(registry_search_order)
{
    bp_err e;
    use_default_path();
    char *dirs[] = { (char *)fake_dir() };
    bp_registry *r = bp_registry_new(dirs, 1, &e);
    ck_assert_ptr_nonnull(r);
    const char *const *d;
    ck_assert_uint_eq(bp_registry_dirs(r, &d), 3); /* fake_dir listed once */
    ck_assert_str_eq(d[0], fake_dir());
    ck_assert_str_eq(d[1], PLUGIN_DIR);
    ck_assert_str_eq(d[2], BP_PLUGINDIR);
    bp_registry_free(r);

    char *bad[] = { (char *)"/nonexistent/plugins" };
    ck_assert_ptr_null(bp_registry_new(bad, 1, &e));
    ck_assert_int_eq(e.code, BP_EUSAGE);
    ck_assert_str_eq(e.msg, "--plugin-path: /nonexistent/plugins: not a directory");

    /* empty entries would mean the current directory: skipped */
    ck_assert_int_eq(setenv("BPRUN_PLUGIN_PATH", fmt("::%s:", PLUGIN_DIR), 1), 0);
    r = bp_registry_new(NULL, 0, &e);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(bp_registry_dirs(r, &d), 2);
    ck_assert_str_eq(d[0], PLUGIN_DIR);
    ck_assert_str_eq(d[1], BP_PLUGINDIR);
    bp_registry_free(r);

    ck_assert_int_eq(unsetenv("BPRUN_PLUGIN_PATH"), 0);
    r = bp_registry_new(NULL, 0, &e);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(bp_registry_dirs(r, &d), 1);
    ck_assert_str_eq(d[0], BP_PLUGINDIR);
    bp_registry_free(r);
}
END_TEST

START_TEST(registry_name_must_match_file)
{
    make_tmpdir();
    ck_assert_int_eq(symlink(PLUGIN_DIR "/sgd.so", path_in(tmpdir, "adam.so")), 0);
    ck_assert_int_eq(setenv("BPRUN_PLUGIN_PATH", fmt("%s:%s", tmpdir, PLUGIN_DIR), 1), 0);
    bp_err e;
    bp_registry *r = bp_registry_new(NULL, 0, &e);
    ck_assert_ptr_nonnull(r);
    ck_assert_ptr_null(bp_registry_get(r, "adam", BP_OPTIMIZER, &e));
    ck_assert_int_eq(e.code, BP_EPLUGIN);
    ck_assert_str_eq(e.msg, fmt("%s/adam.so: declares the name 'sgd', but a plugin found as "
                                "adam.so must be named 'adam'", tmpdir));
    /* by explicit path the file name does not matter */
    const bp_loaded *p = bp_registry_get(r, path_in(tmpdir, "adam.so"), BP_OPTIMIZER, &e);
    ck_assert_msg(p != NULL, "%s", e.msg);
    ck_assert_str_eq(p->desc->name, "sgd");
    ck_assert_ptr_eq(bp_registry_get(r, "sgd", BP_OPTIMIZER, &e), p); /* same resolved file */
    bp_registry_free(r);
    const char *files[] = { "adam.so", NULL };
    remove_tmpdir(files);
}
END_TEST

typedef struct scan_log {
    char good[32][64];
    char broken[32][PATH_MAX];
    char why[32][BP_ERR_MSG_MAX];
    int n_good, n_broken;
} scan_log;

static void visit(void *ud, const bp_loaded *p, const char *broken_path, const bp_err *why)
{
    scan_log *s = ud;
    if (p) {
        ck_assert_ptr_null(broken_path);
        ck_assert_int_lt(s->n_good, 32);
        snprintf(s->good[s->n_good++], 64, "%s", p->desc->name);
    } else {
        ck_assert_ptr_nonnull(why);
        ck_assert_int_eq(why->code, BP_EPLUGIN);
        ck_assert_int_lt(s->n_broken, 32);
        snprintf(s->broken[s->n_broken], PATH_MAX, "%s", broken_path);
        snprintf(s->why[s->n_broken++], BP_ERR_MSG_MAX, "%s", why->msg);
    }
}

START_TEST(registry_scan)
{
    make_tmpdir();
    /* tmpdir shadows sgd with a broken file, and holds a text file named .so */
    ck_assert_int_eq(symlink(path_in(fake_dir(), "fake_abi.so"), path_in(tmpdir, "sgd.so")), 0);
    FILE *f = fopen(path_in(tmpdir, "notso.so"), "w");
    ck_assert_ptr_nonnull(f);
    fputs("This is a text file named like a plugin. It is long enough to hold an ELF header.\n", f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(setenv("BPRUN_PLUGIN_PATH", fmt("%s:%s:%s", tmpdir, PLUGIN_DIR, fake_dir()),
                            1), 0);
    bp_err e;
    bp_registry *r = bp_registry_new(NULL, 0, &e);
    ck_assert_ptr_nonnull(r);
    static scan_log s;
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(bp_registry_scan(r, visit, &s, &e), 0);
    static const char *good[] = { "adadelta", "adagrad", "adam", "adamw", "elu", "gelu",
                                  "identity", "leaky_relu", "quickprop", "relu", "rmsprop",
                                  "rprop", "sigmoid", "softplus", "softsign", "tanh",
                                  "fake_kind" };
    const int n_good = (int)(sizeof good / sizeof good[0]);
    ck_assert_int_eq(s.n_good, n_good);
    for (int i = 0; i < n_good; i++)
        ck_assert_str_eq(s.good[i], good[i]);
    static const char *broken[] = { "notso", "sgd", "fake_abi", "fake_badname", "fake_defrange",
                                    "fake_duphp", "fake_noentry", "fake_noforward", "fake_nostep",
                                    "fake_nullentry", "fake_size", "fake_unresolved" };
    ck_assert_int_eq(s.n_broken, 12);
    for (int i = 0; i < 12; i++)
        ck_assert_str_eq(s.broken[i], fmt("%s/%s.so", i < 2 ? tmpdir : fake_dir(), broken[i]));
    ck_assert_str_eq(s.why[1], fmt("%s/sgd.so: built for plugin ABI 7, this bprun supports 1; "
                                   "rebuild it against this bprun's bprun/plugin.h", tmpdir));
    ck_assert_str_eq(s.why[6], fmt("%s/fake_noentry.so: no bp_plugin_entry symbol (not a bprun "
                                   "plugin, or built without exporting it)", fake_dir()));
    /* scanning keeps the good ones loaded in the registry */
    ck_assert_ptr_nonnull(bp_registry_get(r, "relu", BP_ACTIVATION, &e));
    bp_registry_free(r);
    const char *files[] = { "sgd.so", "notso.so", NULL };
    remove_tmpdir(files);
}
END_TEST

/* ---- bind: config hyperparameters against declarations ----------------------------------- */

static void ref_init(bp_pluginref *ref, const char *key_path)
{
    memset(ref, 0, sizeof *ref);
    ref->name = (char *)"x";
    ref->mark = (bp_mark){ (char *)"c.yaml", 6, 3 };
    ref->key_path = (char *)key_path;
}

static void ref_add(bp_pluginref *ref, const char *name, double v, unsigned line, unsigned col)
{
    bp_hpval *nh = realloc(ref->hp, (ref->n_hp + 1) * sizeof *nh);
    ck_assert_ptr_nonnull(nh);
    ref->hp = nh;
    ref->hp[ref->n_hp].name = strdup(name);
    ref->hp[ref->n_hp].value = v;
    ref->hp[ref->n_hp].mark = (bp_mark){ (char *)"c.yaml", line, col };
    ref->n_hp++;
}

static void ref_free(bp_pluginref *ref)
{
    for (size_t i = 0; i < ref->n_hp; i++)
        free(ref->hp[i].name);
    free(ref->hp);
    memset(ref, 0, sizeof *ref);
}

static const bp_loaded *load_sgd(bp_registry **r)
{
    bp_err e;
    use_default_path();
    *r = bp_registry_new(NULL, 0, &e);
    ck_assert_ptr_nonnull(*r);
    const bp_loaded *p = bp_registry_get(*r, "sgd", BP_OPTIMIZER, &e);
    ck_assert_msg(p != NULL, "%s", e.msg);
    return p;
}

static void expect_bind(const bp_loaded *p, bp_pluginref *ref, const char *msg)
{
    bp_err e;
    double v[BP_MAX_HPARAMS];
    size_t n_before = ref->n_hp;
    ck_assert_int_eq(bp_plugin_bind(p, ref, v, &e), BP_ECONFIG);
    ck_assert_str_eq(e.msg, msg);
    ck_assert_uint_eq(ref->n_hp, n_before); /* nothing filled on error */
    ref_free(ref);
}

START_TEST(bind_errors)
{
    bp_registry *r;
    const bp_loaded *sgd = load_sgd(&r);
    bp_pluginref ref;

    ref_init(&ref, "train.optimizer");
    ref_add(&ref, "lr", 0.1, 6, 5);
    ref_add(&ref, "momentm", 0.9, 7, 5);
    expect_bind(sgd, &ref, "c.yaml:7:5: train.optimizer.momentm: sgd has no hyperparameter "
                           "'momentm' (did you mean 'momentum'?; valid: lr, momentum, "
                           "dampening, nesterov, weight_decay)");
    ref_init(&ref, "train.optimizer");
    ref_add(&ref, "beta1", 0.9, 7, 5);
    expect_bind(sgd, &ref, "c.yaml:7:5: train.optimizer.beta1: sgd has no hyperparameter "
                           "'beta1' (valid: lr, momentum, dampening, nesterov, weight_decay)");
    ref_init(&ref, "train.optimizer");
    ref_add(&ref, "lr", -1, 7, 15);
    expect_bind(sgd, &ref, "c.yaml:7:15: train.optimizer.lr: must be in (0, inf) (got -1)");
    ref_init(&ref, "train.optimizer");
    ref_add(&ref, "lr", 0.0, 7, 15);
    expect_bind(sgd, &ref, "c.yaml:7:15: train.optimizer.lr: must be in (0, inf) (got 0)");
    ref_init(&ref, "train.optimizer");
    ref_add(&ref, "dampening", 1.5, 8, 16);
    expect_bind(sgd, &ref, "c.yaml:8:16: train.optimizer.dampening: must be in [0, 1] (got 1.5)");
    ref_init(&ref, "train.optimizer");
    ref_add(&ref, "momentum", -0.1, 8, 16);
    expect_bind(sgd, &ref, "c.yaml:8:16: train.optimizer.momentum: must be in [0, inf) (got -0.1)");
    ref_init(&ref, "train.optimizer");
    ref_add(&ref, "nesterov", 2, 9, 15);
    expect_bind(sgd, &ref, "c.yaml:9:15: train.optimizer.nesterov: must be true or false (got 2)");
    ref_init(&ref, "train.optimizer");
    ref_add(&ref, "lr", HUGE_VAL, 7, 15);
    expect_bind(sgd, &ref, "c.yaml:7:15: train.optimizer.lr: must be a finite number (got inf)");
    ref_init(&ref, "train.optimizer");
    ref_add(&ref, "lr", 0.1, 7, 15);
    ref_add(&ref, "lr", 0.2, 9, 1);
    expect_bind(sgd, &ref, "c.yaml:9:1: train.optimizer.lr: given twice");

    bp_err e;
    const bp_loaded *relu = bp_registry_get(r, "relu", BP_ACTIVATION, &e);
    ck_assert_ptr_nonnull(relu);
    ref_init(&ref, "model.activation[1]");
    ref_add(&ref, "slope", 0.1, 4, 3);
    expect_bind(relu, &ref, "c.yaml:4:3: model.activation[1].slope: relu has no hyperparameters");

    /* an INTEGER hyperparameter, on an in-memory descriptor */
    reset_desc();
    bp_loaded mem = { .path = (char *)"mem.so", .handle = NULL, .desc = &t_desc };
    ref_init(&ref, "train.optimizer");
    ref_add(&ref, "k", 2.5, 3, 7);
    expect_bind(&mem, &ref, "c.yaml:3:7: train.optimizer.k: must be an integer (got 2.5)");
    ref_init(&ref, "train.optimizer");
    ref_add(&ref, "k", 11, 3, 7);
    expect_bind(&mem, &ref, "c.yaml:3:7: train.optimizer.k: must be in [1, 10] (got 11)");
    ref_init(&ref, "train.optimizer");
    ref_add(&ref, "k", 10, 3, 7);
    ref_add(&ref, "flag", 0, 4, 7);
    double v[BP_MAX_HPARAMS];
    ck_assert_int_eq(bp_plugin_bind(&mem, &ref, v, &e), 0);
    ck_assert(v[0] == 0.1 && v[1] == 10.0 && v[2] == 0.0);
    ref_free(&ref);
    bp_registry_free(r);
}
END_TEST

START_TEST(bind_fills_defaults)
{
    bp_registry *r;
    const bp_loaded *sgd = load_sgd(&r);
    bp_pluginref ref;
    ref_init(&ref, "train.optimizer");
    ref_add(&ref, "weight_decay", 0.5, 8, 19);
    ref_add(&ref, "lr", 0.2, 7, 9);
    double v[BP_MAX_HPARAMS];
    bp_err e;
    ck_assert_int_eq(bp_plugin_bind(sgd, &ref, v, &e), 0);
    ck_assert(v[0] == 0.2 && v[1] == 0.0 && v[2] == 0.0 && v[3] == 0.0 && v[4] == 0.5);
    ck_assert_uint_eq(ref.n_hp, 5);
    /* completed and put in declaration order; bools flagged for the dump */
    static const char *order[] = { "lr", "momentum", "dampening", "nesterov", "weight_decay" };
    for (int i = 0; i < 5; i++)
        ck_assert_str_eq(ref.hp[i].name, order[i]);
    for (int i = 1; i < 4; i++) {
        ck_assert(ref.hp[i].value == 0.0);
        ck_assert_ptr_null(ref.hp[i].mark.src);
    }
    ck_assert_int_eq(ref.hp[3].boolean, 1);
    ck_assert_int_eq(ref.hp[0].boolean, 0);
    ck_assert_str_eq(ref.hp[4].mark.src, "c.yaml");
    ck_assert(ref.hp[4].value == 0.5);
    /* binding again changes nothing */
    double v2[BP_MAX_HPARAMS];
    ck_assert_int_eq(bp_plugin_bind(sgd, &ref, v2, &e), 0);
    ck_assert_uint_eq(ref.n_hp, 5);
    ck_assert(memcmp(v, v2, 5 * sizeof *v) == 0);
    ref_free(&ref);

    ref_init(&ref, "train.optimizer");
    ck_assert_int_eq(bp_plugin_bind(sgd, &ref, v, &e), 0);
    ck_assert_uint_eq(ref.n_hp, 5);
    ck_assert(v[0] == 0.01);
    ck_assert_str_eq(ref.hp[0].name, "lr");
    ref_free(&ref);
    bp_registry_free(r);
}
END_TEST

/* ---- sgd numerics ------------------------------------------------------------------------ */

static int run_sgd(const bp_optimizer *o, const double *hp, float *w, float *state, const float *g,
                   size_t n, uint64_t t, char *err, size_t err_size)
{
    bp_step_args a = { .w = w, .g = g, .state = state, .n = n, .t = t, .hp = hp, .err = err,
                       .err_size = err_size };
    return o->step(&a);
}

/* Exactly representable values, so every step can be checked by hand. w = 1, g = 0.5. */
START_TEST(sgd_hand_computed)
{
    bp_registry *r;
    const bp_optimizer *o = load_sgd(&r)->desc->u.optimizer;
    char err[128];
    const float g = 0.5f;
    struct {
        double hp[5];        /* lr, momentum, dampening, nesterov, weight_decay */
        float w1, w2;        /* after steps 1 and 2 */
    } cases[] = {
        /* w -= 0.5*0.5 each step */
        { { 0.5, 0, 0, 0, 0 }, 0.75f, 0.5f },
        /* buf1 = g = 0.5, w = 0.75; buf2 = 0.5*0.5 + 0.5 = 0.75, w = 0.75 - 0.375 */
        { { 0.5, 0.5, 0, 0, 0 }, 0.75f, 0.375f },
        /* dampening skipped on step 1: buf1 = 0.5; buf2 = 0.25 + 0.5*0.5 = 0.5, w = 0.5 */
        { { 0.5, 0.5, 0.5, 0, 0 }, 0.75f, 0.5f },
        /* nesterov: buf1 = 0.5, g' = 0.5 + 0.25 = 0.75, w = 0.625;
         * buf2 = 0.75, g' = 0.5 + 0.375 = 0.875, w = 0.625 - 0.4375 = 0.1875 */
        { { 0.5, 0.5, 0, 1, 0 }, 0.625f, 0.1875f },
        /* weight decay: g' = 0.5 + 0.25*1 = 0.75, w = 0.625; g' = 0.5 + 0.25*0.625 = 0.65625,
         * w = 0.625 - 0.328125 = 0.296875 */
        { { 0.5, 0, 0, 0, 0.25 }, 0.625f, 0.296875f },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        float w = 1.0f, buf = 123.0f; /* step 1 must not read the buffer */
        ck_assert_int_eq(run_sgd(o, cases[c].hp, &w, &buf, &g, 1, 1, err, sizeof err), 0);
        ck_assert_msg(w == cases[c].w1, "case %zu step 1: %a", c, (double)w);
        ck_assert_int_eq(run_sgd(o, cases[c].hp, &w, &buf, &g, 1, 2, err, sizeof err), 0);
        ck_assert_msg(w == cases[c].w2, "case %zu step 2: %a", c, (double)w);
    }
    bp_registry_free(r);
}
END_TEST

/* Reference: torch 1.13 torch.optim.SGD on float32 tensors (same _single_tensor_sgd as 2.x),
 * three steps from w0 with the gradients gs; the values are torch's bits. */
START_TEST(sgd_matches_torch)
{
    bp_registry *r;
    const bp_optimizer *o = load_sgd(&r)->desc->u.optimizer;
    static const float w0[4] = { 1.0f, -2.0f, 0.5f, 3.25e-3f };
    static const float gs[3][4] = { { 0.5f, -0.25f, 3.0f, 1e-4f },
                                    { 0.1f, 0.2f, -0.3f, -7.0f },
                                    { -1.5f, 0.75f, 0.125f, 0.33f } };
    static const struct {
        double hp[5];
        float w[3][4];
    } cases[] = {
        { { 0.1, 0, 0, 0, 0 },
          { { 0x1.e66666p-1f, -0x1.f9999ap+0f, 0x1.999998p-3f, 0x1.a8ac5cp-9f },
            { 0x1.e147aep-1f, -0x1.feb852p+0f, 0x1.d70a3cp-3f, 0x1.680f14p-1f },
            { 0x1.170a3ep+0f, -0x1.08f5c2p+1f, 0x1.bd70a2p-3f, 0x1.5729b4p-1f } } },
        { { 0.1, 0.9, 0, 0, 0 },
          { { 0x1.e66666p-1f, -0x1.f9999ap+0f, 0x1.999998p-3f, 0x1.a8ac5cp-9f },
            { 0x1.ca3d70p-1f, -0x1.f8f5c2p+0f, -0x1.47ae16p-5f, 0x1.680de4p-1f },
            { 0x1.fdb22cp-1f, -0x1.05cac0p+1f, -0x1.12f1aap-2f, 0x1.4cdb68p+0f } } },
        { { 0.05, 0.9, 0.3, 0, 0 },
          { { 0x1.f33334p-1f, -0x1.fcccccp+0f, 0x1.666666p-2f, 0x1.a95422p-9f },
            { 0x1.e5e354p-1f, -0x1.fbb644p+0f, 0x1.cdd2f2p-3f, 0x1.fc6584p-3f },
            { 0x1.f4c986p-1f, -0x1.00b9f4p+1f, 0x1.bec570p-4f, 0x1.d428b0p-2f } } },
        { { 0.1, 0.9, 0, 1, 0.01 },
          { { 0x1.ce6320p-1f, -0x1.f2de00p+0f, -0x1.229c82p-4f, 0x1.a6af2cp-9f },
            { 0x1.aea144p-1f, -0x1.f60c72p+0f, -0x1.0764bep-2f, 0x1.554d1ep+0f },
            { 0x1.141652p+0f, -0x1.0c23b6p+1f, -0x1.e697d4p-2f, 0x1.d5c01ap+0f } } },
        { { 0.3, 0, 0, 0, 0.1 },
          { { 0x1.a3d70ap-1f, -0x1.dd70a4p+0f, -0x1.a8f5c4p-2f, 0x1.9945b8p-9f },
            { 0x1.87e282p-1f, -0x1.de7a10p+0f, -0x1.400d1cp-2f, 0x1.0d300cp+1f },
            { 0x1.31439ep+0f, -0x1.04dc7ap+1f, -0x1.5cd984p-2f, 0x1.f0e14ep+0f } } },
    };
    char err[128];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        float w[4], buf[4] = { 0 };
        memcpy(w, w0, sizeof w);
        for (int t = 0; t < 3; t++) {
            ck_assert_int_eq(run_sgd(o, cases[c].hp, w, buf, gs[t], 4, (uint64_t)t + 1, err,
                                     sizeof err), 0);
            for (int i = 0; i < 4; i++)
                ck_assert_msg(w[i] == cases[c].w[t][i], "case %zu step %d w[%d] = %a, torch %a",
                              c, t + 1, i, (double)w[i], (double)cases[c].w[t][i]);
        }
    }
    bp_registry_free(r);
}
END_TEST

START_TEST(sgd_slices_and_errors)
{
    bp_registry *r;
    const bp_optimizer *o = load_sgd(&r)->desc->u.optimizer;
    const double hp[5] = { 0.1, 0.9, 0.1, 0, 0.01 };
    float g[5] = { 0.3f, -1.0f, 2.5f, 0.01f, -0.7f };
    float wa[5] = { 1, 2, 3, 4, 5 }, wb[5] = { 1, 2, 3, 4, 5 };
    float sa[5] = { 0 }, sb[5] = { 0 };
    char err[160];
    for (uint64_t t = 1; t <= 3; t++) {
        ck_assert_int_eq(run_sgd(o, hp, wa, sa, g, 5, t, err, sizeof err), 0);
        /* the same step as two slices (state stride = slice length, since n_state is 1) */
        ck_assert_int_eq(run_sgd(o, hp, wb, sb, g, 2, t, err, sizeof err), 0);
        ck_assert_int_eq(run_sgd(o, hp, wb + 2, sb + 2, g + 2, 3, t, err, sizeof err), 0);
    }
    ck_assert(memcmp(wa, wb, sizeof wa) == 0);
    ck_assert(memcmp(sa, sb, sizeof sa) == 0);

    const double bad1[5] = { 0.1, 0, 0, 1, 0 };
    float w = 1, s = 0, gg = 1;
    ck_assert_int_eq(run_sgd(o, bad1, &w, &s, &gg, 1, 1, err, sizeof err), -1);
    ck_assert_str_eq(err, "sgd: nesterov needs momentum > 0 and dampening 0 (got momentum 0, "
                          "dampening 0)");
    const double bad2[5] = { 0.1, 0.9, 0.5, 1, 0 };
    ck_assert_int_eq(run_sgd(o, bad2, &w, &s, &gg, 1, 1, err, sizeof err), -1);
    ck_assert_str_eq(err, "sgd: nesterov needs momentum > 0 and dampening 0 (got momentum 0.9, "
                          "dampening 0.5)");
    ck_assert(w == 1.0f); /* untouched */
    bp_registry_free(r);
}
END_TEST

/* ---- adam numerics ----------------------------------------------------------------------- */

/* Reference: torch 1.13 torch.optim.Adam(foreach=False) on float32 tensors, five steps; hp is
 * lr, beta1, beta2, eps, weight_decay, amsgrad. Generated with
 *   p = torch.nn.Parameter(torch.tensor(w0)); opt = torch.optim.Adam([p], foreach=False, ...)
 *   for g in gs: p.grad = torch.tensor(g); opt.step()
 * The values are torch's bits. */
static const float adam_w0[24] = { -0x1.9a96c2p+0f, -0x1.53093p+1f, -0x1.fca504p-2f, 0x1.ae8932p-1f, 0x1.22d3f2p+1f, 0x1.c15b8p-3f, -0x1.1af496p+0f, -0x1.91cebcp+0f, 0x1.7f5b9cp+0f, 0x1.a28124p+1f, 0x1.1750b2p-1f, -0x1.3bbb6ep+1f, -0x1.eaa1bcp+0f, 0x1.999adap+1f, 0x1.9f80d4p-2f, -0x1.bb6d3p+1f, -0x1.56d1d2p-3f, -0x1.29c92ep+1f, -0x1.42320cp+0f, -0x1.f3b7ccp-1f, -0x1.6d376ap+0f, 0x1.1b546cp+0f, -0x1.02667p-3f, -0x1.2dc9fp+0f };
static const float adam_g[5][24] = {
    { 0x1.963abap-15f, 0x1.ec6a68p+1f, -0x1.cec724p-12f, -0x1.b8f8c6p-2f, -0x1.bc0f2p-8f, -0x1.f873e6p-1f, -0x1.a3baeep-7f, 0x1.97b2ccp-4f, -0x1.2bc47cp-9f, -0x1.fa8fcep-12f, -0x1.1158p-1f, -0x1.7e219p-4f, -0x1.26a21ap-2f, -0x1.cef6fap-6f, 0x1.2f41e6p-12f, -0x1.6bff8ap-3f, 0x1.a50f28p-12f, 0x1.a85636p-3f, -0x1.3375fp-2f, 0x1.102ca2p-9f, -0x1.1549p+0f, 0x1.02df02p-15f, 0x1.99ebap-12f, -0x1.f1128ap+0f },
    { 0x1.13c182p-3f, -0x1.153fb6p-11f, 0x1.3746bap-7f, -0x1.3d4018p-12f, -0x1.2be8bp+1f, -0x1.c9635ep+0f, 0x1.faf1ccp-12f, -0x1.fe86bcp-7f, -0x1.f12512p-10f, -0x1.0bb43ep-5f, 0x1.929812p-6f, -0x1.77ebep-12f, -0x1.55aa76p+1f, 0x1.8e46dap-10f, -0x1.514e74p-6f, -0x1.0574d8p-14f, -0x1.76a9e4p-21f, -0x1.b9a816p-12f, -0x1.21d148p-12f, 0x1.768086p+2f, -0x1.73c706p+0f, -0x1.04a1a2p-5f, -0x1.1aa494p-5f, -0x1.6ac14p-5f },
    { 0x1.d09f94p-7f, -0x1.a9351ep-2f, 0x1.58c42ep-10f, -0x1.9daa8cp-2f, -0x1.8b2bdcp-10f, -0x1.2969f2p+1f, -0x1.0cc2bap-11f, 0x1.782fbap-3f, -0x1.9c0fa8p-6f, 0x1.b2452ep-13f, 0x1.5e6c3p-6f, 0x1.bcb062p-15f, 0x1.2ad89cp-13f, 0x1.518736p-6f, 0x1.84d198p-7f, 0x1.56694ep+1f, 0x1.4984fp-14f, 0x1.02403ep-7f, 0x1.4a3d64p-6f, -0x1.6fe43p-4f, -0x1.3370ap-3f, 0x1.11343cp-5f, 0x1.51a5c4p-5f, 0x1.6ce81ap-5f },
    { -0x1.7c8112p-5f, 0x1.ff284ep+2f, 0x1.e8ea46p-11f, -0x1.cbb6e4p-2f, 0x1.aceb2p-10f, 0x1.463c1cp-10f, -0x1.45d4f6p-7f, -0x1.4f01e6p-13f, -0x1.d7f7fcp+0f, 0x1.1c60acp-8f, -0x1.81bedcp-14f, -0x1.829b0ep-16f, -0x1.88b95ap-17f, 0x1.1f8dcp-9f, 0x1.b1a61p-6f, -0x1.b5c7e8p-5f, -0x1.dc7ecp+2f, 0x1.e85958p+2f, -0x1.a1c1aap-10f, -0x1.0c40e4p-4f, 0x1.2f996ap-3f, 0x1.4671f2p-13f, 0x1.eac15cp+0f, 0x1.e9cbaap-9f },
    { -0x1.736b42p-15f, -0x1.9ec3a6p-8f, 0x1.029714p-5f, -0x1.fb7598p-16f, 0x1.fce004p-6f, -0x1.900a3ap-3f, 0x1.4bfe88p-13f, 0x1.2e5046p-12f, -0x1.aa2128p-1f, 0x1.3bce44p-2f, -0x1.2010b2p-8f, 0x1.3965f4p-9f, 0x1.8ad068p-10f, -0x1.bcd56ep+2f, -0x1.a0432p+2f, 0x1.f5b77ap-13f, -0x1.5f6a9ap-7f, -0x1.df1e0ap-11f, -0x1.018264p-8f, -0x1.1a522ep-2f, 0x1.117e3ap-2f, 0x1.a745f2p-12f, -0x1.50da48p-10f, -0x1.23a162p-7f },
};
static const struct { double hp[6]; float w[5][24]; } adam_cases[] = {
    { { 0.001, 0.9, 0.999, 1e-08, 0.0, 0 }, {
        { -0x1.9ad848p+0f, -0x1.5329f4p+1f, -0x1.fb9eep-2f, 0x1.af0c44p-1f, 0x1.22f4b6p+1f, 0x1.c367cap-3f, -0x1.1ab30cp+0f, -0x1.921046p+0f, 0x1.7f9d26p+0f, 0x1.a2a1e8p+1f, 0x1.17d3c4p-1f, -0x1.3b9aaap+1f, -0x1.ea6032p+0f, 0x1.99bb9ep+1f, 0x1.9e7ab2p-2f, -0x1.bb4c6cp+1f, -0x1.58de18p-3f, -0x1.29e9f2p+1f, -0x1.41f082p+0f, -0x1.f43adep-1f, -0x1.6cf5ep+0f, 0x1.1b12e8p+0f, -0x1.0472b6p-3f, -0x1.2d8866p+0f },
        { -0x1.9b091p+0f, -0x1.533fe8p+1f, -0x1.fc5996p-2f, 0x1.af6428p-1f, 0x1.230d28p+1f, 0x1.c5670cp-3f, -0x1.1a8902p+0f, -0x1.92341cp+0f, 0x1.7fde16p+0f, 0x1.a2ba9cp+1f, 0x1.182704p-1f, -0x1.3b849ep+1f, -0x1.ea2b02p+0f, 0x1.99d03cp+1f, 0x1.9f3b48p-2f, -0x1.bb3674p+1f, -0x1.5a3cb4p-3f, -0x1.29ffdap+1f, -0x1.41c48cp+0f, -0x1.f49c7p-1f, -0x1.6cb488p+0f, 0x1.1b43a2p+0f, -0x1.02f092p-3f, -0x1.2d5b62p+0f },
        { -0x1.9b32f4p+0f, -0x1.534e88p+1f, -0x1.fcff82p-2f, 0x1.afcfp-1f, 0x1.232012p+1f, 0x1.c76774p-3f, -0x1.1a66dcp+0f, -0x1.926622p+0f, 0x1.800d8cp+0f, 0x1.a2cd92p+1f, 0x1.1863f6p-1f, -0x1.3b7396p+1f, -0x1.ea01e4p+0f, 0x1.99d0c8p+1f, 0x1.9f689ap-2f, -0x1.bb4a38p+1f, -0x1.5b870ap-3f, -0x1.2a1192p+1f, -0x1.41a574p+0f, -0x1.f4e69p-1f, -0x1.6c7ebcp+0f, 0x1.1b3f54p+0f, -0x1.0331e4p-3f, -0x1.2d398ep+0f },
        { -0x1.9b470ap+0f, -0x1.5364e4p+1f, -0x1.fd9586p-2f, 0x1.b042c6p-1f, 0x1.232f8cp+1f, 0x1.c90b1p-3f, -0x1.1a396ap+0f, -0x1.928f16p+0f, 0x1.80342ap+0f, 0x1.a2da76p+1f, 0x1.1895e6p-1f, -0x1.3b65a2p+1f, -0x1.e9e036p+0f, 0x1.99d00ap+1f, 0x1.9f0ffep-2f, -0x1.bb5a06p+1f, -0x1.5a566p-3f, -0x1.2a25p+1f, -0x1.418bc8p+0f, -0x1.f5226cp-1f, -0x1.6c55eap+0f, 0x1.1b3bacp+0f, -0x1.0463f2p-3f, -0x1.2d1decp+0f },
        { -0x1.9b58p+0f, -0x1.5377c6p+1f, -0x1.fe434cp-2f, 0x1.b0a4a2p-1f, 0x1.233c64p+1f, 0x1.ca7f14p-3f, -0x1.1a135ap+0f, -0x1.92b1cp+0f, 0x1.8060ap+0f, 0x1.a2c9d8p+1f, 0x1.18c0b2p-1f, -0x1.3b5a4cp+1f, -0x1.e9c3c4p+0f, 0x1.99e1eap+1f, 0x1.9f9e94p-2f, -0x1.bb6762p+1f, -0x1.595474p-3f, -0x1.2a356cp+1f, -0x1.41759ep+0f, -0x1.f55198p-1f, -0x1.6c38f6p+0f, 0x1.1b3844p+0f, -0x1.056672p-3f, -0x1.2d0666p+0f },
    } },
    { { 0.01, 0.8, 0.99, 1e-06, 0.0, 0 }, {
        { -0x1.9d18dcp+0f, -0x1.5450dep+1f, -0x1.f26d8p-2f, 0x1.b3a7eap-1f, 0x1.241b94p+1f, 0x1.d5d66p-3f, -0x1.186546p+0f, -0x1.945e16p+0f, 0x1.81eaaep+0f, 0x1.a3c824p+1f, 0x1.1c6f6ap-1f, -0x1.3a73cp+1f, -0x1.e8126p+0f, 0x1.9ae286p+1f, 0x1.954c6cp-2f, -0x1.ba2582p+1f, -0x1.6b3faep-3f, -0x1.2b10dcp+1f, -0x1.3fa2bp+0f, -0x1.f8d5e2p-1f, -0x1.6aa80ep+0f, 0x1.18d9a2p+0f, -0x1.16d3fp-3f, -0x1.2b3a94p+0f },
        { -0x1.9f1a9cp+0f, -0x1.551f5p+1f, -0x1.fa252ep-2f, 0x1.b6e28ep-1f, 0x1.251cfap+1f, 0x1.ea1ddp-3f, -0x1.16dc2p+0f, -0x1.95a634p+0f, 0x1.84706ep+0f, 0x1.a4cbf2p+1f, 0x1.1f78fap-1f, -0x1.39a448p+1f, -0x1.e5e7a8p+0f, 0x1.9ba2d6p+1f, 0x1.9d3b7p-2f, -0x1.b956fp+1f, -0x1.781492p-3f, -0x1.2bdedp+1f, -0x1.3e0542p+0f, -0x1.fcd966p-1f, -0x1.681584p+0f, 0x1.1adad2p+0f, -0x1.06ecb8p-3f, -0x1.2991f6p+0f },
        { -0x1.a0bd8ap+0f, -0x1.559afp+1f, -0x1.0057p-1f, 0x1.bb122p-1f, 0x1.25d7a4p+1f, 0x1.fead5cp-3f, -0x1.15acccp+0f, -0x1.97ae72p+0f, 0x1.8672ap+0f, 0x1.a586bap+1f, 0x1.218692p-1f, -0x1.390e14p+1f, -0x1.e455b8p+0f, 0x1.9b8ap+1f, 0x1.9e9506p-2f, -0x1.ba340ep+1f, -0x1.83fcf2p-3f, -0x1.2c7cd4p+1f, -0x1.3cf9aep+0f, -0x1.ffb398p-1f, -0x1.66137cp+0f, 0x1.1a8b1ep+0f, -0x1.0aa9d8p-3f, -0x1.286912p+0f },
        { -0x1.a15c42p+0f, -0x1.568a8ep+1f, -0x1.032a36p-1f, 0x1.bfb58cp-1f, 0x1.26666p+1f, 0x1.073484p-2f, -0x1.13e5d8p+0f, -0x1.993c56p+0f, 0x1.8830a8p+0f, 0x1.a5f726p+1f, 0x1.23190ep-1f, -0x1.389b0cp+1f, -0x1.e3220ap+0f, 0x1.9b6916p+1f, 0x1.9a202ep-2f, -0x1.bad8dep+1f, -0x1.76378cp-3f, -0x1.2d5c54p+1f, -0x1.3c2a7cp+0f, -0x1.00ec46p+0f, -0x1.64af94p+0f, 0x1.1a4c9cp+0f, -0x1.188264p-3f, -0x1.2786acp+0f },
        { -0x1.a1d91ap+0f, -0x1.574716p+1f, -0x1.0708e4p-1f, 0x1.c35c98p-1f, 0x1.26d3dap+1f, 0x1.0dd146p-2f, -0x1.1283e4p+0f, -0x1.9a764p+0f, 0x1.8a22cep+0f, 0x1.a529dp+1f, 0x1.245d36p-1f, -0x1.384624p+1f, -0x1.e23002p+0f, 0x1.9c40cp+1f, 0x1.a0d9aap-2f, -0x1.bb5aaap+1f, -0x1.6b5a88p-3f, -0x1.2e0c4cp+1f, -0x1.3b819ap+0f, -0x1.01af8ap+0f, -0x1.63d9f2p+0f, 0x1.1a179p+0f, -0x1.23672ap-3f, -0x1.26d262p+0f },
    } },
    { { 0.05, 0.9, 0.999, 1e-08, 0.0, 1 }, {
        { -0x1.a762e2p+0f, -0x1.596f96p+1f, -0x1.c9721cp-2f, 0x1.c822ccp-1f, 0x1.293a58p+1f, 0x1.13e0f4p-2f, -0x1.0e27cap+0f, -0x1.9e9b88p+0f, 0x1.8c2866p+0f, 0x1.a8e782p+1f, 0x1.30ea4cp-1f, -0x1.355508p+1f, -0x1.ddd4fp+0f, 0x1.a0014p+1f, 0x1.6c4e16p-2f, -0x1.b506cap+1f, -0x1.bd379p-3f, -0x1.302f94p+1f, -0x1.35654p+0f, -0x1.06a8aep+0f, -0x1.606a9ep+0f, 0x1.0e88bp+0f, -0x1.68cc2ap-3f, -0x1.20fd24p+0f },
        { -0x1.b0ea1p+0f, -0x1.5db8b2p+1f, -0x1.ede9cp-2f, 0x1.d94b52p-1f, 0x1.2e00b4p+1f, 0x1.45ce5ap-2f, -0x1.05f1b8p+0f, -0x1.a59b7ap+0f, 0x1.98d71cp+0f, 0x1.adbacap+1f, 0x1.412c9cp-1f, -0x1.310712p+1f, -0x1.d37162p+0f, 0x1.a408p+1f, 0x1.91eb5ep-2f, -0x1.b0bd16p+1f, -0x1.00d4b8p-2f, -0x1.34766p+1f, -0x1.2cd074p+0f, -0x1.102fd8p+0f, -0x1.53a764p+0f, 0x1.180cf2p+0f, -0x1.1d613cp-3f, -0x1.1832fcp+0f },
        { -0x1.b91882p+0f, -0x1.6093d8p+1f, -0x1.0728ep-1f, 0x1.ee2994p-1f, 0x1.31b1ccp+1f, 0x1.77d89p-2f, -0x1.fe8cc6p-1f, -0x1.af60d8p+0f, 0x1.a21c24p+0f, 0x1.b16e8ep+1f, 0x1.4d13eep-1f, -0x1.2db446p+1f, -0x1.cb6aaep+0f, 0x1.a42386p+1f, 0x1.9ac554p-2f, -0x1.b49932p+1f, -0x1.211724p-2f, -0x1.37ec0cp+1f, -0x1.26bda6p+0f, -0x1.176c4p+0f, -0x1.49257ap+0f, 0x1.173592p+0f, -0x1.2a233ep-3f, -0x1.11988p+0f },
        { -0x1.bd04a8p+0f, -0x1.64f1c2p+1f, -0x1.15cf4ap-1f, 0x1.02632cp+0f, 0x1.34b6e8p+1f, 0x1.a0cd98p-2f, -0x1.eccbeap-1f, -0x1.b75f56p+0f, 0x1.a9a6e4p+0f, 0x1.b3f314p+1f, 0x1.56d384p-1f, -0x1.2afb78p+1f, -0x1.c4d86cp+0f, 0x1.a3fe66p+1f, 0x1.8976d8p-2f, -0x1.b7af36p+1f, -0x1.03568cp-2f, -0x1.3bb78p+1f, -0x1.21ba96p+0f, -0x1.1d439p+0f, -0x1.412c52p+0f, 0x1.167ecep+0f, -0x1.65ea22p-3f, -0x1.0c341cp+0f },
        { -0x1.c0546ap+0f, -0x1.68a18ap+1f, -0x1.26c7acp-1f, 0x1.0bf07p+0f, 0x1.37383p+1f, 0x1.c521e8p-2f, -0x1.ddef4cp-1f, -0x1.be22aep+0f, 0x1.b255ep+0f, 0x1.b0b438p+1f, 0x1.5f2d36p-1f, -0x1.28c5b6p+1f, -0x1.bf4c4p+0f, 0x1.a77bf6p+1f, 0x1.a5501cp-2f, -0x1.ba4ab4p+1f, -0x1.d4536ap-3f, -0x1.3eec14p+1f, -0x1.1d674ap+0f, -0x1.21de98p+0f, -0x1.3b84bep+0f, 0x1.15d4bep+0f, -0x1.986084p-3f, -0x1.079dc2p+0f },
    } },
    { { 0.02, 0.9, 0.999, 1e-08, 0.1, 0 }, {
        { -0x1.95780ap+0f, -0x1.55988cp+1f, -0x1.e82a24p-2f, 0x1.b8c6a2p-1f, 0x1.204496p+1f, 0x1.ea5142p-3f, -0x1.15d5dep+0f, -0x1.8cb004p+0f, 0x1.7a3ce4p+0f, 0x1.9ff1c8p+1f, 0x1.218e22p-1f, -0x1.392c12p+1f, -0x1.e58304p+0f, 0x1.970b7ep+1f, 0x1.8b05f4p-2f, -0x1.b8ddd4p+1f, -0x1.2ddc12p-3f, -0x1.2739d2p+1f, -0x1.3d1354p+0f, -0x1.e97a5cp-1f, -0x1.6818b2p+0f, 0x1.1635b4p+0f, -0x1.b2e16p-4f, -0x1.28ab38p+0f },
        { -0x1.918456p+0f, -0x1.572a22p+1f, -0x1.d40336p-2f, 0x1.bd9aacp-1f, 0x1.21fc36p+1f, 0x1.091c9cp-2f, -0x1.10be82p+0f, -0x1.87fb7ap+0f, 0x1.751e9p+0f, 0x1.9d654ep+1f, 0x1.270c4ep-1f, -0x1.36aaa6p+1f, -0x1.e12fe8p+0f, 0x1.947b42p+1f, 0x1.78526ap-2f, -0x1.b662fap+1f, -0x1.051038p-3f, -0x1.252506p+1f, -0x1.38b73ap+0f, -0x1.f0fbacp-1f, -0x1.62fc2p+0f, 0x1.1137f4p+0f, -0x1.69b0dcp-4f, -0x1.24f3f2p+0f },
        { -0x1.8d1008p+0f, -0x1.580cc4p+1f, -0x1.bfbe02p-2f, 0x1.c4bd42p-1f, 0x1.232222p+1f, 0x1.1d1cb4p-2f, -0x1.0ba918p+0f, -0x1.84f1d4p+0f, 0x1.700dfep+0f, 0x1.9ad6e4p+1f, 0x1.2a3042p-1f, -0x1.342bbep+1f, -0x1.dda3bcp+0f, 0x1.91e9cep+1f, 0x1.64e896p-2f, -0x1.b777f6p+1f, -0x1.b95a04p-4f, -0x1.22da1p+1f, -0x1.34b2bap+0f, -0x1.f691b4p-1f, -0x1.5e9bbcp+0f, 0x1.0c2fd2p+0f, -0x1.5901b2p-4f, -0x1.21f8bp+0f },
        { -0x1.885d8p+0f, -0x1.59b46cp+1f, -0x1.ab7274p-2f, 0x1.ccfd7ap-1f, 0x1.23e8f8p+1f, 0x1.2d6186p-2f, -0x1.06904cp+0f, -0x1.8120c2p+0f, 0x1.726bf4p+0f, 0x1.98475ap+1f, 0x1.2c0b6p-1f, -0x1.31ad82p+1f, -0x1.da8c7ap+0f, 0x1.8f58fcp+1f, 0x1.512894p-2f, -0x1.b81a14p+1f, -0x1.898552p-4f, -0x1.2441cp+1f, -0x1.30bf76p+0f, -0x1.faf952p-1f, -0x1.5b0a3cp+0f, 0x1.07256ep+0f, -0x1.882f54p-4f, -0x1.1f5ffcp+0f },
        { -0x1.838deap+0f, -0x1.5b0ecp+1f, -0x1.991fa8p-2f, 0x1.d30dep-1f, 0x1.24650ep+1f, 0x1.3bb7f6p-2f, -0x1.017cd8p+0f, -0x1.7ce896p+0f, 0x1.755156p+0f, 0x1.95c21cp+1f, 0x1.2cfee6p-1f, -0x1.2f2ff8p+1f, -0x1.d7c3ep+0f, 0x1.90884p+1f, 0x1.5c18cep-2f, -0x1.b87008p+1f, -0x1.60f898p-4f, -0x1.25669p+1f, -0x1.2ccfbap+0f, -0x1.fe5376p-1f, -0x1.583606p+0f, 0x1.021a9p+0f, -0x1.afce6cp-4f, -0x1.1d0544p+0f },
    } },
    { { 0.3, 0.5, 0.9, 0.001, 0.01, 1 }, {
        { -0x1.524f24p+0f, -0x1.796d04p+1f, -0x1.f2c2c4p-3f, 0x1.23e2f2p+0f, 0x1.fd635cp+0f, 0x1.09c884p-1f, -0x1.a27d28p-1f, -0x1.ddb3ccp+0f, 0x1.382b2ep+0f, 0x1.7d42bap+1f, 0x1.b0a006p-1f, -0x1.15a7aap+1f, -0x1.9e14cap+0f, 0x1.7b4cf4p+1f, 0x1.4b83dep-3f, -0x1.9534dcp+1f, 0x1.33b2p-11f, -0x1.4ffa6cp+1f, -0x1.eb47c8p-1f, -0x1.6bce76p-1f, -0x1.207c84p+0f, 0x1.a9c162p-1f, 0x1.b951p-7f, -0x1.c20e64p-1f },
        { -0x1.92ffecp+0f, -0x1.8ac934p+1f, -0x1.731ff4p-2f, 0x1.4535acp+0f, 0x1.21d6aap+1f, 0x1.a939e4p-1f, -0x1.34f6c2p-1f, -0x1.e3dcfep+0f, 0x1.e7ec14p-1f, 0x1.6f614p+1f, 0x1.ee37d2p-1f, -0x1.fb63e6p+0f, -0x1.53f25cp+0f, 0x1.57b3p+1f, 0x1.89cf8ap-2f, -0x1.7e70bep+1f, 0x1.0f34cap-4f, -0x1.5c697ep+1f, -0x1.a094ccp-1f, -0x1.f8d438p-1f, -0x1.a2f4b4p-1f, 0x1.039328p+0f, 0x1.20909ep-2f, -0x1.77b31cp-1f },
        { -0x1.b320f2p+0f, -0x1.8f747ap+1f, -0x1.6f86d2p-2f, 0x1.8612dcp+0f, 0x1.337f0cp+1f, 0x1.27b1a2p+0f, -0x1.b0f2ap-2f, -0x1.12b83ap+1f, 0x1.0a92dep+0f, 0x1.515224p+1f, 0x1.02a214p+0f, -0x1.d6fa7cp+0f, -0x1.2da796p+0f, 0x1.2f9ee6p+1f, 0x1.380f0ep-2f, -0x1.a1817ap+1f, 0x1.afb48cp-6f, -0x1.5f00b6p+1f, -0x1.7fe70ep-1f, -0x1.1f4572p+0f, -0x1.455da2p-1f, 0x1.a65ddap-1f, 0x1.3069ccp-3f, -0x1.54656ap-1f },
        { -0x1.9e00e4p+0f, -0x1.b3a264p+1f, -0x1.216b52p-2f, 0x1.d248dcp+0f, 0x1.3c5be6p+1f, 0x1.530aeep+0f, -0x1.82f358p-3f, -0x1.1f8582p+1f, 0x1.569a08p+0f, 0x1.2d8a2cp+1f, 0x1.074146p+0f, -0x1.b83128p+0f, -0x1.1931cep+0f, 0x1.0b8e08p+1f, 0x1.ba44ap-5f, -0x1.b2b4eep+1f, 0x1.4abb22p-2f, -0x1.84ff6p+1f, -0x1.6a5884p-1f, -0x1.30992p+0f, -0x1.2028fcp-1f, 0x1.5b0318p-1f, -0x1.32a84p-3f, -0x1.419ce4p-1f },
        { -0x1.88ca74p+0f, -0x1.c68c96p+1f, -0x1.1a6e1cp-1f, 0x1.f85c7ep+0f, 0x1.401384p+1f, 0x1.6ecbb6p+0f, -0x1.8279c8p-5f, -0x1.217f54p+1f, 0x1.9f049ap+0f, 0x1.032fd4p+1f, 0x1.08cde2p+0f, -0x1.9e0feap+0f, -0x1.0e1c5ap+0f, 0x1.337b4p+1f, 0x1.7737d4p-2f, -0x1.bb476cp+1f, 0x1.eb6f3p-2f, -0x1.98e4d4p+1f, -0x1.595c96p-1f, -0x1.35cd02p+0f, -0x1.23d832p-1f, 0x1.1d2858p-1f, -0x1.3a2d4p-2f, -0x1.36734cp-1f },
    } },
};

START_TEST(adam_matches_torch)
{
    bp_err e;
    bp_registry *r;
    load_sgd(&r);
    const bp_loaded *p = bp_registry_get(r, "adam", BP_OPTIMIZER, &e);
    ck_assert_msg(p != NULL, "%s", e.msg);
    const bp_optimizer *o = p->desc->u.optimizer;
    ck_assert_uint_eq(o->n_state, 3);
    ck_assert_uint_eq(o->flags, BP_OPT_ELEMENTWISE);
    static const char *names[] = { "lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad" };
    static const double defs[] = { 1e-3, 0.9, 0.999, 1e-8, 0, 0 };
    ck_assert_uint_eq(o->n_hparams, 6);
    for (int i = 0; i < 6; i++) {
        ck_assert_str_eq(o->hparams[i].name, names[i]);
        ck_assert(o->hparams[i].def == defs[i]);
    }
    ck_assert_uint_eq(o->hparams[5].flags, BP_HP_BOOL);
    enum { N = sizeof adam_w0 / sizeof adam_w0[0], N_STEPS = sizeof adam_g / sizeof adam_g[0] };
    char err[128];
    for (size_t c = 0; c < sizeof adam_cases / sizeof adam_cases[0]; c++) {
        float w[N], st[3 * N] = { 0 };
        memcpy(w, adam_w0, sizeof w);
        for (int t = 0; t < N_STEPS; t++) {
            ck_assert_int_eq(run_sgd(o, adam_cases[c].hp, w, st, adam_g[t], N, (uint64_t)t + 1,
                                     err, sizeof err), 0);
            for (int i = 0; i < N; i++)
                ck_assert_msg(w[i] == adam_cases[c].w[t][i], "case %zu step %d w[%d] = %a, torch %a",
                              c, t + 1, i, (double)w[i], (double)adam_cases[c].w[t][i]);
        }
    }
    /* By hand: step 1 moves each weight by lr * g / (|g| + eps) ~ lr against the gradient
     * (m-hat = g, v-hat = g^2 after bias correction). */
    const double hp[6] = { 0.5, 0.9, 0.999, 1e-8, 0, 0 };
    float w[2] = { 1.0f, 1.0f }, g[2] = { 0.25f, -4.0f }, st[6] = { 0 };
    ck_assert_int_eq(run_sgd(o, hp, w, st, g, 2, 1, err, sizeof err), 0);
    ck_assert_float_eq_tol(w[0], 0.5f, 1e-6f);
    ck_assert_float_eq_tol(w[1], 1.5f, 1e-6f);
    ck_assert_float_eq_tol(st[0], 0.025f, 1e-9f);         /* m = 0.1 g */
    ck_assert_float_eq_tol(st[2], 0.0000625f, 1e-12f);    /* v = 0.001 g^2 */
    bp_registry_free(r);
}
END_TEST

START_TEST(adam_amsgrad_keeps_max)
{
    bp_err e;
    bp_registry *r;
    load_sgd(&r);
    const bp_optimizer *o = bp_registry_get(r, "adam", BP_OPTIMIZER, &e)->desc->u.optimizer;
    const double hp[6] = { 0.1, 0.9, 0.5, 1e-8, 0, 1 };
    float w = 0, st[3] = { 0 };
    char err[64];
    const float g1 = 2.0f, g2 = 0.0f;
    ck_assert_int_eq(run_sgd(o, hp, &w, st, &g1, 1, 1, err, sizeof err), 0);
    ck_assert(st[2] == st[1] && st[1] == 2.0f);      /* v = 0.5 * 4 */
    ck_assert_int_eq(run_sgd(o, hp, &w, st, &g2, 1, 2, err, sizeof err), 0);
    ck_assert(st[1] == 1.0f && st[2] == 2.0f);       /* v decays, the max stays */
    bp_registry_free(r);
}
END_TEST

/* ---- activations: reference values and finite differences -------------------------------- */

static double ref_sigmoid(double z, int k, const double *hp)
{
    (void)hp;
    double s = 1.0 / (1.0 + exp(-z));
    return k == 0 ? s : k == 1 ? s * (1 - s) : s * (1 - s) * (1 - 2 * s);
}

static double ref_tanh(double z, int k, const double *hp)
{
    (void)hp;
    double t = tanh(z);
    return k == 0 ? t : k == 1 ? 1 - t * t : -2 * t * (1 - t * t);
}

static double ref_relu(double z, int k, const double *hp)
{
    (void)hp;
    return k == 0 ? (z > 0 ? z : 0) : k == 1 ? (z > 0 ? 1 : 0) : 0;
}

static double ref_identity(double z, int k, const double *hp)
{
    (void)hp;
    return k == 0 ? z : k == 1 ? 1 : 0;
}

static double ref_leaky_relu(double z, int k, const double *hp)
{
    double s = (float)hp[0];
    return k == 0 ? (z > 0 ? z : s * z) : k == 1 ? (z > 0 ? 1 : s) : 0;
}

static double ref_elu(double z, int k, const double *hp)
{
    double a = (float)hp[0];
    if (z > 0)
        return k == 0 ? z : k == 1 ? 1 : 0;
    return k == 0 ? a * expm1(z) : a * exp(z);
}

static double ref_softplus(double z, int k, const double *hp)
{
    double b = (float)hp[0], bz = b * z;
    if (bz > hp[1])
        return k == 0 ? z : k == 1 ? 1 : 0;
    double s = 1.0 / (1.0 + exp(-bz));
    return k == 0 ? log1p(exp(bz)) / b : k == 1 ? s : b * s * (1 - s);
}

static double ref_softsign(double z, int k, const double *hp)
{
    (void)hp;
    double q = 1.0 / (1.0 + fabs(z));
    return k == 0 ? z * q : k == 1 ? q * q : (z > 0 ? -2 : z < 0 ? 2 : 0) * q * q * q;
}

static double ref_gelu(double z, int k, const double *hp)
{
    (void)hp;
    const double kk = sqrt(2.0 / M_PI), c = 0.044715;
    double t = tanh(kk * (z + c * z * z * z));
    double du = kk * (1 + 3 * c * z * z), ddu = 6 * kk * c * z;
    if (k == 0)
        return 0.5 * z * (1 + t);
    if (k == 1)
        return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * du;
    return (1 - t * t) * (du + 0.5 * z * (ddu - 2 * t * du * du));
}

/* Each plugin with its double-precision formula, at its defaults (hp[0] < 0: use the declared
 * defaults) and at other hyperparameter values. */
static const struct {
    const char *name;
    double (*ref)(double z, int k, const double *hp);
    double hp[2];
} act_refs[] = {
    { "sigmoid", ref_sigmoid, { -1 } },   { "tanh", ref_tanh, { -1 } },
    { "relu", ref_relu, { -1 } },         { "identity", ref_identity, { -1 } },
    { "leaky_relu", ref_leaky_relu, { -1 } }, { "leaky_relu", ref_leaky_relu, { 0.2 } },
    { "elu", ref_elu, { -1 } },           { "elu", ref_elu, { 0.5 } },
    { "softplus", ref_softplus, { -1 } }, { "softplus", ref_softplus, { 2.0, 20.0 } },
    { "softsign", ref_softsign, { -1 } }, { "gelu", ref_gelu, { -1 } },
};

/* The plugin of act_refs[i] and its hyperparameter values in hp. */
static const bp_activation *load_act_hp(bp_registry **r, int i, double *hp)
{
    bp_err e;
    use_default_path();
    *r = bp_registry_new(NULL, 0, &e);
    ck_assert_ptr_nonnull(*r);
    const bp_loaded *p = bp_registry_get(*r, act_refs[i].name, BP_ACTIVATION, &e);
    ck_assert_msg(p != NULL, "%s", e.msg);
    const bp_activation *a = p->desc->u.activation;
    ck_assert_ptr_nonnull(a->second);
    ck_assert_uint_le(a->n_hparams, 2);
    for (uint32_t j = 0; j < a->n_hparams; j++)
        hp[j] = act_refs[i].hp[0] < 0 ? a->hparams[j].def : act_refs[i].hp[j];
    return a;
}

static const bp_activation *load_act(bp_registry **r, const char *name)
{
    bp_err e;
    use_default_path();
    *r = bp_registry_new(NULL, 0, &e);
    ck_assert_ptr_nonnull(*r);
    const bp_loaded *p = bp_registry_get(*r, name, BP_ACTIVATION, &e);
    ck_assert_msg(p != NULL, "%s", e.msg);
    return p->desc->u.activation;
}

/* Points away from relu's kink by more than the step H. */
static const float act_points[] = { -30.0f, -8.0f, -2.5f, -1.0f, -0.3f, 0.2f, 0.7f, 1.5f, 3.0f,
                                    8.0f, 30.0f };
#define N_POINTS (sizeof act_points / sizeof act_points[0])
#define H 0x1p-7f       /* finite-difference step, exactly representable */
#define REF_TOL 1e-6    /* |plugin - double formula| <= REF_TOL * (1 + |value|) */
#define FD_TOL 2e-3     /* |central difference - plugin derivative| <= FD_TOL * (1 + |z|) */

START_TEST(activation_values)
{
    bp_registry *r;
    double hp[2] = { 0, 0 };
    const bp_activation *f = load_act_hp(&r, _i, hp);
    double (*ref)(double, int, const double *) = act_refs[_i].ref;
    float a[N_POINTS], d[N_POINTS], d2[N_POINTS];
    f->forward(act_points, a, N_POINTS, hp);
    f->derivative(act_points, a, d, N_POINTS, hp);
    f->second(act_points, a, d2, N_POINTS, hp);
    for (size_t i = 0; i < N_POINTS; i++) {
        double z = act_points[i];
        ck_assert_msg(fabs(a[i] - ref(z, 0, hp)) <= REF_TOL * (1 + fabs(ref(z, 0, hp))),
                      "%s f(%g) = %.9g, want %.9g", act_refs[_i].name, z, a[i], ref(z, 0, hp));
        ck_assert_msg(fabs(d[i] - ref(z, 1, hp)) <= REF_TOL * (1 + fabs(ref(z, 1, hp))),
                      "%s f'(%g) = %.9g, want %.9g", act_refs[_i].name, z, d[i], ref(z, 1, hp));
        ck_assert_msg(fabs(d2[i] - ref(z, 2, hp)) <= REF_TOL * (1 + fabs(ref(z, 2, hp))),
                      "%s f''(%g) = %.9g, want %.9g", act_refs[_i].name, z, d2[i], ref(z, 2, hp));
    }
    bp_registry_free(r);
}
END_TEST

START_TEST(activation_finite_differences)
{
    bp_registry *r;
    double hp[2] = { 0, 0 };
    const bp_activation *f = load_act_hp(&r, _i, hp);
    for (size_t i = 0; i < N_POINTS; i++) {
        float z[3] = { act_points[i] - H, act_points[i], act_points[i] + H };
        float a[3], d[3], d2[3];
        f->forward(z, a, 3, hp);
        f->derivative(z, a, d, 3, hp);
        f->second(z, a, d2, 3, hp);
        double fd1 = ((double)a[2] - a[0]) / (2.0 * H);
        double fd2 = ((double)d[2] - d[0]) / (2.0 * H);
        double tol = FD_TOL * (1 + fabs(z[1]));
        ck_assert_msg(fabs(fd1 - d[1]) <= tol, "%s at %g: central difference %.9g, f' %.9g",
                      act_refs[_i].name, z[1], fd1, d[1]);
        ck_assert_msg(fabs(fd2 - d2[1]) <= tol, "%s at %g: central difference of f' %.9g, f'' %.9g",
                      act_refs[_i].name, z[1], fd2, d2[1]);
    }
    bp_registry_free(r);
}
END_TEST

START_TEST(activation_in_place_and_extremes)
{
    bp_registry *r;
    double hp[2] = { 0, 0 };
    const bp_activation *f = load_act_hp(&r, _i, hp);
    /* z and a may be the same array; d may alias a */
    float buf[N_POINTS], a[N_POINTS], d[N_POINTS];
    memcpy(buf, act_points, sizeof buf);
    f->forward(act_points, a, N_POINTS, hp);
    f->derivative(act_points, a, d, N_POINTS, hp);
    f->forward(buf, buf, N_POINTS, hp);
    ck_assert(memcmp(buf, a, sizeof a) == 0);
    f->derivative(act_points, buf, buf, N_POINTS, hp);
    ck_assert(memcmp(buf, d, sizeof d) == 0);

    const float big[] = { -FLT_MAX, -1e4f, -100.0f, -88.8f, 88.8f, 100.0f, 1e4f, FLT_MAX };
    const size_t nb = sizeof big / sizeof big[0];
    float ba[8], bd[8], bd2[8];
    f->forward(big, ba, nb, hp);
    f->derivative(big, ba, bd, nb, hp);
    f->second(big, ba, bd2, nb, hp);
    for (size_t i = 0; i < nb; i++) {
        ck_assert_msg(isfinite(ba[i]) && isfinite(bd[i]) && isfinite(bd2[i]),
                      "%s at %g: %g %g %g", act_refs[_i].name, big[i], ba[i], bd[i], bd2[i]);
        ck_assert(bd[i] >= 0.0f);
    }
    if (strcmp(act_refs[_i].name, "sigmoid") == 0) {
        ck_assert(ba[0] == 0.0f && ba[nb - 1] == 1.0f);
        for (size_t i = 0; i < nb; i++)
            ck_assert(ba[i] >= 0.0f && ba[i] <= 1.0f);
    }
    if (strcmp(act_refs[_i].name, "tanh") == 0)
        ck_assert(ba[0] == -1.0f && ba[nb - 1] == 1.0f);
    /* NaN stays NaN: a diverged net must not look healthy */
    float nan_in = NAN, nan_out = 0;
    f->forward(&nan_in, &nan_out, 1, hp);
    ck_assert(isnan(nan_out));
    bp_registry_free(r);
}
END_TEST

/* bprun/vexp.h: within 2 ulp of exp where the result is normal, on a dense sweep of the whole
 * normal range; 0 / subnormal below, +inf above, NaN for NaN, exp(0) = 1 exactly. */
START_TEST(vexp_accuracy)
{
    double worst = 0.0;
    float at = 0.0f;
    for (float x = -87.3f; x < 88.7f; x += 1e-4f * (1.0f + fabsf(x))) {
        float got = bp_vexpf(x);
        double want = exp((double)x);
        float fw = (float)want;
        double ulp = (double)nextafterf(fw, INFINITY) - fw;
        double err = fabs(got - want) / ulp;
        if (err > worst) {
            worst = err;
            at = x;
        }
    }
    ck_assert_msg(worst <= 2.0, "bp_vexpf: %.3f ulp at %.9g", worst, at);
    ck_assert(bp_vexpf(0.0f) == 1.0f && bp_vexpf(-0.0f) == 1.0f);
    ck_assert(bp_vexpf(-200.0f) == 0.0f && bp_vexpf(-INFINITY) == 0.0f);
    ck_assert(bp_vexpf(-100.0f) > 0.0f && bp_vexpf(-100.0f) < FLT_MIN); /* subnormal */
    ck_assert(fabs(bp_vexpf(-100.0f) - exp(-100.0)) <= 2 * 0x1p-149);
    ck_assert(isinf(bp_vexpf(89.0f)) && isinf(bp_vexpf(INFINITY)) && isinf(bp_vexpf(FLT_MAX)));
    ck_assert(isnan(bp_vexpf(NAN)));
}
END_TEST

/* |got - want| in units in the last place of want rounded to float (want's own ulp: the
 * spacing above |want|, 2^-149 for 0 and subnormals). */
static double ulp_error(float got, double want)
{
    float fw = (float)fabs(want);
    double ulp = (double)nextafterf(fw, INFINITY) - fw;
    return fabs(got - want) / ulp;
}

/* Largest ulp_error of f against ref over a geometric sweep of |x| from lo to hi (both signs
 * when both_signs), 3e-4 relative steps up to 1e4 and 1e-2 beyond: every binade, both ends
 * of every polynomial and reduction interval. */
static double sweep_ulp(float (*f)(float), double (*ref)(double), float lo, float hi,
                        int both_signs, float *at)
{
    double worst = 0.0;
    for (int sg = both_signs ? -1 : 1; sg <= 1; sg += 2)
        for (float ax = lo; ax <= hi && isfinite(ax); ax += ax * (ax < 1e4f ? 3e-4f : 1e-2f)) {
            float x = sg < 0 ? -ax : ax;
            double e = ulp_error(f(x), ref((double)x));
            if (e > worst) {
                worst = e;
                *at = x;
            }
        }
    return worst;
}

static float vexpm1(float x) { return bp_vexpm1f(x); }
static float vtanh(float x) { return bp_vtanhf(x); }
static float vlog1p(float x) { return bp_vlog1pf(x); }

/* bprun/vexp.h's expm1, tanh and log1p: relative accuracy all the way down to tiny x (where
 * exp(x) - 1, (1 - e)/(1 + e) and log(1 + x) cancel), and their special values. */
START_TEST(vexpm1_accuracy)
{
    float at = 0.0f;
    double worst = sweep_ulp(vexpm1, expm1, 0x1p-20f, 30.0f, 1, &at);
    ck_assert_msg(worst <= 2.0, "bp_vexpm1f: %.3f ulp at %.9g", worst, at);
    worst = sweep_ulp(vexpm1, expm1, 30.0f, 88.72f, 0, &at);
    ck_assert_msg(worst <= 2.0, "bp_vexpm1f: %.3f ulp at %.9g", worst, at);
    ck_assert(bp_vexpm1f(0.0f) == 0.0f && !signbit(bp_vexpm1f(0.0f)));
    ck_assert(bp_vexpm1f(-0.0f) == 0.0f && signbit(bp_vexpm1f(-0.0f)));
    ck_assert(bp_vexpm1f(1e-30f) == 1e-30f && bp_vexpm1f(-1e-40f) == -1e-40f);
    ck_assert(bp_vexpm1f(-18.0f) == -1.0f && bp_vexpm1f(-1e4f) == -1.0f);
    ck_assert(bp_vexpm1f(-FLT_MAX) == -1.0f && bp_vexpm1f(-INFINITY) == -1.0f);
    ck_assert(ulp_error(bp_vexpm1f(88.72f), expm1((double)88.72f)) <= 2.0);
    ck_assert(isinf(bp_vexpm1f(88.75f)) && isinf(bp_vexpm1f(FLT_MAX)));
    ck_assert(isinf(bp_vexpm1f(INFINITY)) && bp_vexpm1f(INFINITY) > 0.0f);
    ck_assert(isnan(bp_vexpm1f(NAN)));
}
END_TEST

START_TEST(vtanh_accuracy)
{
    float at = 0.0f;
    double worst = sweep_ulp(vtanh, tanh, 0x1p-20f, 12.0f, 1, &at);
    ck_assert_msg(worst <= 2.0, "bp_vtanhf: %.3f ulp at %.9g", worst, at);
    ck_assert(bp_vtanhf(0.0f) == 0.0f && !signbit(bp_vtanhf(0.0f)));
    ck_assert(bp_vtanhf(-0.0f) == 0.0f && signbit(bp_vtanhf(-0.0f)));
    ck_assert(bp_vtanhf(1e-30f) == 1e-30f && bp_vtanhf(-1e-40f) == -1e-40f);
    ck_assert(bp_vtanhf(9.1f) == 1.0f && bp_vtanhf(-9.1f) == -1.0f);
    ck_assert(bp_vtanhf(FLT_MAX) == 1.0f && bp_vtanhf(-FLT_MAX) == -1.0f);
    ck_assert(bp_vtanhf(INFINITY) == 1.0f && bp_vtanhf(-INFINITY) == -1.0f);
    ck_assert(isnan(bp_vtanhf(NAN)));
}
END_TEST

START_TEST(vlog1p_accuracy)
{
    float at = 0.0f;
    double worst = sweep_ulp(vlog1p, log1p, 0x1p-20f, 0.99999994f, 1, &at);
    ck_assert_msg(worst <= 1.0, "bp_vlog1pf: %.3f ulp at %.9g", worst, at);
    worst = sweep_ulp(vlog1p, log1p, 1.0f, FLT_MAX, 0, &at);
    ck_assert_msg(worst <= 1.0, "bp_vlog1pf: %.3f ulp at %.9g", worst, at);
    ck_assert(bp_vlog1pf(0.0f) == 0.0f && !signbit(bp_vlog1pf(0.0f)));
    ck_assert(bp_vlog1pf(-0.0f) == 0.0f && signbit(bp_vlog1pf(-0.0f)));
    ck_assert(bp_vlog1pf(1e-30f) == 1e-30f && bp_vlog1pf(-1e-40f) == -1e-40f);
    ck_assert(ulp_error(bp_vlog1pf(FLT_MAX), log1p(FLT_MAX)) <= 1.0);
    ck_assert(isinf(bp_vlog1pf(-1.0f)) && bp_vlog1pf(-1.0f) < 0.0f);
    ck_assert(isinf(bp_vlog1pf(INFINITY)) && bp_vlog1pf(INFINITY) > 0.0f);
    ck_assert(isnan(bp_vlog1pf(-1.5f)) && isnan(bp_vlog1pf(-INFINITY)));
    ck_assert(isnan(bp_vlog1pf(NAN)));
}
END_TEST

/* An activation's value of one element does not depend on how many elements are in the call
 * nor on the element's place (vector body, vector epilogue or scalar tail): each activation's
 * f, f' and f'' at 1..67 elements against one call over all of them, bit for bit. */
START_TEST(activation_position_independent)
{
    bp_registry *r;
    double hp[2] = { 0, 0 };
    const bp_activation *f = load_act_hp(&r, _i, hp);
    enum { N = 67 };
    float z[N], all[N], one[N], dall[N], done[N], d2all[N], d2one[N];
    for (size_t i = 0; i < N; i++)
        z[i] = -9.0f + 0.27f * (float)i + (i % 3 ? 1e-3f : 0.0f);
    f->forward(z, all, N, hp);
    f->derivative(z, all, dall, N, hp);
    f->second(z, all, d2all, N, hp);
    for (size_t len = 1; len <= N; len++) {
        size_t at = (len * 7) % (N - len + 1);
        f->forward(z + at, one, len, hp);
        f->derivative(z + at, one, done, len, hp);
        f->second(z + at, one, d2one, len, hp);
        ck_assert_msg(memcmp(one, all + at, len * sizeof *one) == 0 &&
                      memcmp(done, dall + at, len * sizeof *done) == 0 &&
                      memcmp(d2one, d2all + at, len * sizeof *d2one) == 0,
                      "%s: %zu elements from %zu differ from the one call", act_refs[_i].name, len,
                      at);
    }
    bp_registry_free(r);
}
END_TEST

START_TEST(relu_at_zero)
{
    bp_registry *r;
    const bp_activation *f = load_act(&r, "relu");
    const float z[3] = { -0.0f, 0.0f, 0x1p-149f };
    float a[3], d[3];
    f->forward(z, a, 3, NULL);
    f->derivative(z, a, d, 3, NULL);
    ck_assert(a[0] == 0.0f && !signbit(a[0]) && a[1] == 0.0f && a[2] == 0x1p-149f);
    ck_assert(d[0] == 0.0f && d[1] == 0.0f && d[2] == 1.0f); /* torch: relu'(0) = 0 */
    bp_registry_free(r);
}
END_TEST

static Suite *plugin_suite(void)
{
    Suite *s = suite_create("plugin");
    TCase *tc = tcase_create("fakes");
    tcase_add_test(tc, fake_no_entry);
    tcase_add_test(tc, fake_null_entry);
    tcase_add_test(tc, fake_wrong_abi);
    tcase_add_test(tc, fake_wrong_size);
    tcase_add_test(tc, fake_null_step);
    tcase_add_test(tc, fake_null_forward);
    tcase_add_test(tc, fake_bad_name);
    tcase_add_test(tc, fake_unresolved_symbol);
    tcase_add_test(tc, fake_duplicate_hparam);
    tcase_add_test(tc, fake_default_out_of_range);
    tcase_add_test(tc, fake_kind_mismatch);
    tcase_add_test(tc, missing_and_not_regular);
    tcase_add_test(tc, not_a_shared_object);
    suite_add_tcase(s, tc);

    tc = tcase_create("descriptor");
    tcase_add_test(tc, desc_rules);
    tcase_add_test(tc, desc_hparam_rules);
    suite_add_tcase(s, tc);

    tc = tcase_create("registry");
    tcase_add_test(tc, registry_real_plugins);
    tcase_add_test(tc, registry_not_found);
    tcase_add_test(tc, registry_search_order);
    tcase_add_test(tc, registry_name_must_match_file);
    tcase_add_test(tc, registry_scan);
    suite_add_tcase(s, tc);

    tc = tcase_create("bind");
    tcase_add_test(tc, bind_errors);
    tcase_add_test(tc, bind_fills_defaults);
    suite_add_tcase(s, tc);

    tc = tcase_create("optimizers");
    tcase_add_test(tc, sgd_hand_computed);
    tcase_add_test(tc, sgd_matches_torch);
    tcase_add_test(tc, sgd_slices_and_errors);
    tcase_add_test(tc, adam_matches_torch);
    tcase_add_test(tc, adam_amsgrad_keeps_max);
    suite_add_tcase(s, tc);

    tc = tcase_create("activations");
    const int n_acts = (int)(sizeof act_refs / sizeof act_refs[0]);
    tcase_add_loop_test(tc, activation_values, 0, n_acts);
    tcase_add_loop_test(tc, activation_finite_differences, 0, n_acts);
    tcase_add_loop_test(tc, activation_in_place_and_extremes, 0, n_acts);
    tcase_add_loop_test(tc, activation_position_independent, 0, n_acts);
    tcase_add_test(tc, vexp_accuracy);
    tcase_add_test(tc, vexpm1_accuracy);
    tcase_add_test(tc, vtanh_accuracy);
    tcase_add_test(tc, vlog1p_accuracy);
    tcase_add_test(tc, relu_at_zero);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(plugin_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
