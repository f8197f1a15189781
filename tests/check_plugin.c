/* Unit tests of the plugin host (src/plugin.c), the bundled plugins and the fake ones. */
#include "autoconf.h"
#include "plugin.h"

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
    ck_assert_str_eq(e.msg, fmt("%s: not a regular file", fake_dir()));
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
    t_opt = (bp_optimizer){ sizeof(bp_optimizer), 3, t_hp, 1, BP_OPT_ELEMENTWISE, NULL, step };
    t_act = (bp_activation){ sizeof(bp_activation), 0, NULL, fwd, der, NULL };
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
                    "plugin must set size = sizeof(bp_optimizer)", sizeof(bp_optimizer)));
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
                    "plugin must set size = sizeof(bp_activation)", sizeof(bp_activation)));
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

    static const char *acts[] = { "sigmoid", "tanh", "relu", "identity" };
    for (int i = 0; i < 4; i++) {
        const bp_loaded *p = bp_registry_get(r, acts[i], BP_ACTIVATION, &e);
        ck_assert_msg(p != NULL, "%s", e.msg);
        ck_assert_str_eq(p->desc->name, acts[i]);
        ck_assert_uint_eq(p->desc->u.activation->n_hparams, 0);
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
    static const char *good[] = { "identity", "relu", "sigmoid", "tanh", "fake_kind" };
    ck_assert_int_eq(s.n_good, 5);
    for (int i = 0; i < 5; i++)
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
    ck_assert_str_eq(ref.hp[0].name, "weight_decay");
    ck_assert_str_eq(ref.hp[1].name, "lr");
    static const char *filled[] = { "momentum", "dampening", "nesterov" };
    for (int i = 0; i < 3; i++) {
        ck_assert_str_eq(ref.hp[2 + i].name, filled[i]);
        ck_assert(ref.hp[2 + i].value == 0.0);
        ck_assert_ptr_null(ref.hp[2 + i].mark.src);
    }
    ck_assert_str_eq(ref.hp[0].mark.src, "c.yaml");
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

/* ---- activations: reference values and finite differences -------------------------------- */

static double ref_sigmoid(double z, int k)
{
    double s = 1.0 / (1.0 + exp(-z));
    return k == 0 ? s : k == 1 ? s * (1 - s) : s * (1 - s) * (1 - 2 * s);
}

static double ref_tanh(double z, int k)
{
    double t = tanh(z);
    return k == 0 ? t : k == 1 ? 1 - t * t : -2 * t * (1 - t * t);
}

static double ref_relu(double z, int k)
{
    return k == 0 ? (z > 0 ? z : 0) : k == 1 ? (z > 0 ? 1 : 0) : 0;
}

static double ref_identity(double z, int k)
{
    return k == 0 ? z : k == 1 ? 1 : 0;
}

static const struct {
    const char *name;
    double (*ref)(double z, int k);
} act_refs[] = {
    { "sigmoid", ref_sigmoid }, { "tanh", ref_tanh }, { "relu", ref_relu },
    { "identity", ref_identity },
};

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
    const bp_activation *f = load_act(&r, act_refs[_i].name);
    double (*ref)(double, int) = act_refs[_i].ref;
    float a[N_POINTS], d[N_POINTS], d2[N_POINTS];
    f->forward(act_points, a, N_POINTS, NULL);
    f->derivative(act_points, a, d, N_POINTS, NULL);
    f->second(act_points, a, d2, N_POINTS, NULL);
    for (size_t i = 0; i < N_POINTS; i++) {
        double z = act_points[i];
        ck_assert_msg(fabs(a[i] - ref(z, 0)) <= REF_TOL * (1 + fabs(ref(z, 0))),
                      "%s f(%g) = %.9g, want %.9g", act_refs[_i].name, z, a[i], ref(z, 0));
        ck_assert_msg(fabs(d[i] - ref(z, 1)) <= REF_TOL * (1 + fabs(ref(z, 1))),
                      "%s f'(%g) = %.9g, want %.9g", act_refs[_i].name, z, d[i], ref(z, 1));
        ck_assert_msg(fabs(d2[i] - ref(z, 2)) <= REF_TOL * (1 + fabs(ref(z, 2))),
                      "%s f''(%g) = %.9g, want %.9g", act_refs[_i].name, z, d2[i], ref(z, 2));
    }
    bp_registry_free(r);
}
END_TEST

START_TEST(activation_finite_differences)
{
    bp_registry *r;
    const bp_activation *f = load_act(&r, act_refs[_i].name);
    for (size_t i = 0; i < N_POINTS; i++) {
        float z[3] = { act_points[i] - H, act_points[i], act_points[i] + H };
        float a[3], d[3], d2[3];
        f->forward(z, a, 3, NULL);
        f->derivative(z, a, d, 3, NULL);
        f->second(z, a, d2, 3, NULL);
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
    const bp_activation *f = load_act(&r, act_refs[_i].name);
    /* z and a may be the same array; d may alias a */
    float buf[N_POINTS], a[N_POINTS], d[N_POINTS];
    memcpy(buf, act_points, sizeof buf);
    f->forward(act_points, a, N_POINTS, NULL);
    f->derivative(act_points, a, d, N_POINTS, NULL);
    f->forward(buf, buf, N_POINTS, NULL);
    ck_assert(memcmp(buf, a, sizeof a) == 0);
    f->derivative(act_points, buf, buf, N_POINTS, NULL);
    ck_assert(memcmp(buf, d, sizeof d) == 0);

    const float big[] = { -FLT_MAX, -1e4f, -100.0f, -88.8f, 88.8f, 100.0f, 1e4f, FLT_MAX };
    const size_t nb = sizeof big / sizeof big[0];
    float ba[8], bd[8], bd2[8];
    f->forward(big, ba, nb, NULL);
    f->derivative(big, ba, bd, nb, NULL);
    f->second(big, ba, bd2, nb, NULL);
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
    f->forward(&nan_in, &nan_out, 1, NULL);
    ck_assert(isnan(nan_out));
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

    tc = tcase_create("sgd");
    tcase_add_test(tc, sgd_hand_computed);
    tcase_add_test(tc, sgd_matches_torch);
    tcase_add_test(tc, sgd_slices_and_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("activations");
    const int n_acts = (int)(sizeof act_refs / sizeof act_refs[0]);
    tcase_add_loop_test(tc, activation_values, 0, n_acts);
    tcase_add_loop_test(tc, activation_finite_differences, 0, n_acts);
    tcase_add_loop_test(tc, activation_in_place_and_extremes, 0, n_acts);
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
