/* bprun/plugin.h - the bprun plugin ABI.
 *
 * This is the only header bprun installs. A plugin is a shared object that exports exactly one
 * function, bp_plugin_entry(), returning a pointer to a constant descriptor. The descriptor says
 * which kind of plugin it is (an optimizer or an activation function), its name, and points to the
 * kind's table of functions. Every other symbol in a plugin SHOULD be static.
 *
 * Build a plugin against an installed bprun:
 *     cc -O2 -shared -fPIC $(pkg-config --cflags bprun) myopt.c -o myopt.so
 * and name it in a config by path (train.optimizer.name: ./myopt.so) or put it in a directory
 * listed in --plugin-path / BPRUN_PLUGIN_PATH.
 *
 * Versioning. `abi` MUST be BP_PLUGIN_ABI of the header the plugin was built against; the host
 * refuses any other value. `size` fields MUST be the sizeof of the struct as the plugin saw it:
 * later versions only append fields, and a host reads appended fields only when `size` covers
 * them, so old plugins keep loading. Appended so far: `bundled` in bp_optimizer and
 * bp_activation (the tables were 40 bytes before it, on LP64; BP_OPTIMIZER_SIZE_V1 and
 * BP_ACTIVATION_SIZE_V1 are the smallest sizes a host accepts).
 *
 * Threading. The host MAY call a plugin's functions concurrently from several threads, for
 * different trials or on disjoint slices of one array. Functions MUST NOT keep mutable global or
 * static state; everything they need is in their arguments. They MUST NOT call exit(), change
 * process-wide state (signals, locale, OpenMP settings) or print to stdout.
 *
 * Memory. All arrays are owned by the host and valid only during the call. Plugins MUST NOT
 * free them or keep pointers to them after returning. Strings in descriptors MUST have static
 * storage duration.
 *
 * Numbers. Weights, gradients, activations and optimizer state are float (IEEE binary32);
 * hyperparameters are double. Results MUST be a deterministic function of the arguments (no
 * clocks, no random numbers): bprun promises bit-identical results on every run.
 */
#ifndef BPRUN_PLUGIN_H
#define BPRUN_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version. Incremented only for incompatible changes. */
#define BP_PLUGIN_ABI 1

/* The name of the one symbol a plugin exports. */
#define BP_PLUGIN_ENTRY_SYMBOL "bp_plugin_entry"

/* Keeps bp_plugin_entry exported when a plugin is compiled with -fvisibility=hidden (which
 * plugins SHOULD use, so that nothing but the entry point is exported). */
#if defined(__GNUC__) || defined(__clang__)
#define BP_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define BP_PLUGIN_EXPORT
#endif

/* Plugin kinds (bp_plugin.kind). */
enum bp_plugin_kind {
    BP_OPTIMIZER = 1,
    BP_ACTIVATION = 2
};

/* Hyperparameter flags (bp_hparam.flags). */
enum bp_hparam_flags {
    BP_HP_REAL = 0,          /* any real number in [min, max] */
    BP_HP_INTEGER = 1 << 0,  /* value MUST be integral */
    BP_HP_BOOL = 1 << 1,     /* value is 0 or 1; written true/false in YAML */
    BP_HP_MIN_OPEN = 1 << 2, /* min itself is excluded: (min, max] */
    BP_HP_MAX_OPEN = 1 << 3  /* max itself is excluded: [min, max) */
};

/* One hyperparameter a plugin accepts. The host checks every configured value against it
 * (name known, type, range), fills in defaults, lists it in `bprun plugins`, and records the
 * values used in the output files. Values reach the plugin as a double array in declaration
 * order. A hyperparameter with a two-element value in torch.optim (Adam's betas) is declared
 * as two scalars (beta1, beta2).
 *
 * The optimizer hyperparameter named "lr", if declared, is special: the host applies the
 * learning-rate schedule to it, so the value a step sees is the scheduled rate. */
typedef struct bp_hparam {
    const char *name;   /* MUST be a non-empty identifier: [a-z_][a-z0-9_]* */
    double def;         /* default value; MUST lie within [min, max] */
    double min, max;    /* valid range (use -HUGE_VAL / HUGE_VAL for unbounded) */
    uint32_t flags;     /* bp_hparam_flags */
    const char *help;   /* one line, no trailing period; MAY be NULL */
} bp_hparam;

/* Arguments of one optimizer step. The host owns every array. */
typedef struct bp_step_args {
    float *w;               /* parameters, updated in place, n values */
    const float *g;         /* gradient of the loss w.r.t. w (mean over the batch, or the sum
                             * when `summed`), n values */
    float *state;           /* slot s of parameter i is state[s * state_stride + i] */
    size_t n;               /* number of parameters in this call */
    uint64_t t;             /* step number, 1 for the first step of the trial */
    const double *hp;       /* hyperparameter values in declaration order */
    char *err;              /* a step that fails writes a one-line message here ... */
    size_t err_size;        /* ... of at most err_size bytes including the NUL */
    size_t state_stride;    /* distance between state slots: the length of the whole parameter
                             * array (equal to n when the call covers all of it) */
    /* Appended (bprun's own hosts set them; a plugin built for other hosts MUST treat 0 as
     * unknown): the number of rows the gradient g covers (the batch size), and 1 when g is their
     * sum (train.reduction sum) rather than their mean. */
    size_t rows;
    int summed;
} bp_step_args;

/* An optimizer. Its state is n_state floats per parameter, zero-filled by the host before the
 * first step unless init_state says otherwise, and saved and restored by the host, so a trial
 * can be continued exactly. */
typedef struct bp_optimizer {
    uint32_t size;               /* MUST be sizeof(bp_optimizer) */
    uint32_t n_hparams;          /* number of entries in hparams */
    const bp_hparam *hparams;    /* MAY be NULL when n_hparams is 0 */
    uint32_t n_state;            /* state floats per parameter (0 for plain gradient descent) */
    uint32_t flags;              /* bp_optimizer_flags */
    /* OPTIONAL (may be NULL): fill the initial state (slot layout as in bp_step_args.state)
     * for n parameters whose initial values are w. Called once per trial, before step 1. */
    void (*init_state)(float *state, const float *w, size_t n, const double *hp);
    /* REQUIRED: apply one update. Returns 0, or -1 after writing a message to a->err (for
     * example on a non-finite value it cannot handle); the host then ends the trial with
     * status `failed` and that message. When flags has BP_OPT_ELEMENTWISE, the update of
     * parameter i MUST depend only on w[i], g[i], the state of i, t and hp, so the host may
     * call step on disjoint slices concurrently: w, g and state then point at the slice's
     * first parameter, n is the slice's length, and state_stride stays the length of the
     * whole array. */
    int (*step)(const bp_step_args *a);
    /* Appended (read only when size covers it): bprun's own plugins set it to a key that only
     * bprun's source tree defines; every other plugin MUST leave it 0 (a designated
     * initializer does). With the key, bprun MAY compute this plugin's step with its own
     * inlined code giving the same bits (docs/ARCHITECTURE.md, "Fused online steps"). */
    uint64_t bundled;
} bp_optimizer;

/* The size of bp_optimizer before `bundled` was appended: the smallest a host accepts. */
#define BP_OPTIMIZER_SIZE_V1 offsetof(bp_optimizer, bundled)

enum bp_optimizer_flags {
    BP_OPT_ELEMENTWISE = 1 << 0, /* see bp_optimizer.step */
    BP_OPT_FULL_BATCH = 1 << 1   /* meant for full-batch gradients (Rprop, Quickprop): the host
                                  * refuses minibatches unless the config allows them */
};

/* An activation function, applied elementwise. z is the pre-activation, a = f(z). */
typedef struct bp_activation {
    uint32_t size;               /* MUST be sizeof(bp_activation) */
    uint32_t n_hparams;          /* e.g. the slope of a leaky ReLU */
    const bp_hparam *hparams;    /* MAY be NULL when n_hparams is 0 */
    /* REQUIRED: a[i] = f(z[i]) for i < n. z and a MAY be the same array. */
    void (*forward)(const float *z, float *a, size_t n, const double *hp);
    /* REQUIRED: d[i] = f'(z[i]), given z[i] and a[i] = f(z[i]) (use whichever is cheaper).
     * d MAY alias z or a. */
    void (*derivative)(const float *z, const float *a, float *d, size_t n, const double *hp);
    /* OPTIONAL (may be NULL): d2[i] = f''(z[i]). Exact Hessian-vector products need it. */
    void (*second)(const float *z, const float *a, float *d2, size_t n, const double *hp);
    /* Appended (read only when size covers it): as bp_optimizer.bundled; MUST be 0 in every
     * plugin but bprun's own. */
    uint64_t bundled;
} bp_activation;

/* The size of bp_activation before `bundled` was appended: the smallest a host accepts. */
#define BP_ACTIVATION_SIZE_V1 offsetof(bp_activation, bundled)

/* The descriptor. */
typedef struct bp_plugin {
    uint32_t abi;          /* MUST be BP_PLUGIN_ABI */
    uint32_t size;         /* MUST be sizeof(bp_plugin) */
    int32_t kind;          /* bp_plugin_kind */
    const char *name;      /* MUST be a non-empty identifier: [a-z_][a-z0-9_]*, unique per kind */
    const char *summary;   /* one line: what it computes and from which source; MUST NOT be NULL */
    union {
        const bp_optimizer *optimizer;   /* when kind == BP_OPTIMIZER; MUST NOT be NULL */
        const bp_activation *activation; /* when kind == BP_ACTIVATION; MUST NOT be NULL */
    } u;
} bp_plugin;

/* The entry point every plugin exports. It MUST return the same pointer on every call, MUST NOT
 * allocate, and MUST NOT have side effects: the host calls it to inspect a plugin before
 * deciding to use it. The descriptor and everything it points to MUST stay valid and unchanged
 * while the plugin is loaded. */
BP_PLUGIN_EXPORT const bp_plugin *bp_plugin_entry(void);

#ifdef __cplusplus
}
#endif
#endif
