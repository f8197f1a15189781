/* config.h - the experiment config: YAML -> node tree with marks -> typed, validated config.
 *
 * Reading happens in two layers. bp_yaml_* turn YAML text into a tree of bp_node (maps,
 * sequences, scalars), each carrying the source mark (file, 1-based line and column) it came
 * from; they reject what YAML allows but a config must not (duplicate keys, aliases and anchors,
 * tags, multiple documents, nesting deeper than BP_CONFIG_MAX_DEPTH). --set overrides edit the
 * tree (bp_node_set_path). bp_config_from_node then walks the tree against the schema in
 * docs/CONFIG.md and produces a bp_config: unknown keys (with a did-you-mean), wrong types,
 * out-of-range values and missing required keys are errors reported as
 *     file:line:col: key.path: problem (got X)
 * Plugin hyperparameters are kept as name/value/mark lists (bp_pluginref) and checked by the
 * plugin module against the plugin's own declarations.
 *
 * Ownership: every bp_node and bp_config is owned by its creator and freed with the matching
 * *_free, which accept NULL. Strings inside are owned by the containing object.
 */
#ifndef BP_CONFIG_H
#define BP_CONFIG_H

/* train.diverge_factor when not given */
#define BP_DIVERGE_FACTOR_DEFAULT 1000.0

#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "schedule.h"

#define BP_CONFIG_MAX_DEPTH 64          /* deepest nesting accepted in a config */
#define BP_CONFIG_MAX_BYTES (4u << 20)  /* largest config file accepted */
#define BP_CONFIG_MAX_NODES 100000      /* most nodes (keys, values, collections) in one text */

/* A source position. line and col are 1-based; src is "file.yaml" or "--set". */
typedef struct bp_mark {
    char *src;
    unsigned line, col;
} bp_mark;

typedef enum bp_node_kind { BP_NODE_SCALAR, BP_NODE_SEQ, BP_NODE_MAP } bp_node_kind;

typedef struct bp_node {
    bp_node_kind kind;
    bp_mark mark;
    char *value;          /* SCALAR: the text */
    int quoted;           /* SCALAR: written in quotes (so always a string, never a number) */
    size_t n;             /* SEQ, MAP: number of items */
    char **keys;          /* MAP: n keys */
    bp_mark *key_marks;   /* MAP: n key marks */
    struct bp_node **items; /* SEQ, MAP: n children */
} bp_node;

/* Parse a whole file / a string into a node tree. The top level of a file must be a map
 * (bp_yaml_parse_value accepts any node: it parses --set values; empty text gives a null
 * scalar). Text must be UTF-8, at most BP_CONFIG_MAX_BYTES, BP_CONFIG_MAX_NODES nodes and
 * BP_CONFIG_MAX_DEPTH levels. quoted is set for every non-plain scalar (quoted or block).
 * NULL on error (BP_ECONFIG; BP_ENOMEM). */
bp_node *bp_yaml_parse_file(const char *path, bp_err *e);
bp_node *bp_yaml_parse_string(const char *text, size_t len, const char *src, bp_err *e);
bp_node *bp_yaml_parse_value(const char *text, const char *src, bp_err *e);
bp_node *bp_node_clone(const bp_node *n, bp_err *e);
void bp_node_free(bp_node *n);
/* Child of a map by key, or NULL. */
bp_node *bp_node_get(const bp_node *map, const char *key);
/* Replace (or create, making intermediate maps) the value at a dotted key path; takes
 * ownership of value (also on error). "train.optimizer.lr", "model.activation[1]": a segment
 * may end in [i] indexes, i <= length (i == length appends). A scalar in the way becomes a map:
 * null -> {}, X -> {name: X} (the plugin-reference shorthand). Created keys get value's mark.
 * Errors: BP_EUSAGE for a malformed path, BP_ECONFIG for one that does not fit the tree. */
int bp_node_set_path(bp_node *root, const char *path, bp_node *value, bp_err *e);
/* Apply one "key.path=value" override as given on the command line: the value is parsed with
 * bp_yaml_parse_value (marks "--set", line 1, column inside the value). "--set X: expected
 * key.path=value" (BP_EUSAGE) without '=' or with an empty path; set_path errors are prefixed
 * with "--set ASSIGNMENT: ". */
int bp_node_apply_override(bp_node *root, const char *assignment, bp_err *e);
/* Write a node tree as YAML (block style, keys in stored order). */
void bp_node_dump(FILE *f, const bp_node *n, int indent);
/* Write a string as one YAML scalar: plain when it reads back as the same string (and cannot be
 * taken for a number, boolean or null), else double-quoted with escapes. flow: the scalar goes
 * inside [ ] or { }, where , [ ] { } : also need quotes. */
void bp_yaml_write_string(FILE *f, const char *s, int flow);
/* Read a whole config file (at most BP_CONFIG_MAX_BYTES) into a malloc'd, NUL-terminated buffer;
 * *len receives its length. NULL on error ("path: cannot open: reason", BP_ECONFIG). */
char *bp_config_read_file(const char *path, size_t *len, bp_err *e);

/* Name tables (STYLE: every enum that appears in YAML or HDF5 has one). */
typedef enum bp_loss { BP_LOSS_MSE, BP_LOSS_CROSS_ENTROPY, BP_LOSS_BCE, BP_LOSS_COUNT } bp_loss;
extern const char *const bp_loss_names[BP_LOSS_COUNT]; /* "mse", "cross_entropy", "binary_cross_entropy" */

typedef enum bp_init_scheme {
    BP_INIT_UNIFORM, BP_INIT_XAVIER_UNIFORM, BP_INIT_XAVIER_NORMAL, BP_INIT_HE_UNIFORM,
    BP_INIT_HE_NORMAL, BP_INIT_FROM, BP_INIT_COUNT
} bp_init_scheme;
extern const char *const bp_init_names[BP_INIT_COUNT]; /* "uniform", "xavier_uniform", ..., "from" */

/* train.early_stopping.metric: the losses are minimized, the accuracies maximized. */
typedef enum bp_es_metric {
    BP_ES_VAL_LOSS, BP_ES_LOSS, BP_ES_VAL_ACCURACY, BP_ES_ACCURACY, BP_ES_COUNT
} bp_es_metric;
extern const char *const bp_es_metric_names[BP_ES_COUNT]; /* "val_loss", "loss", "val_accuracy", "accuracy" */

/* train.reduction: how a batch's per-sample gradients combine (docs/CONFIG.md) */
typedef enum bp_reduction { BP_REDUCTION_MEAN, BP_REDUCTION_SUM, BP_REDUCTION_COUNT } bp_reduction;
extern const char *const bp_reduction_names[BP_REDUCTION_COUNT]; /* "mean", "sum" */

/* diagnostics.hessian.at */
typedef enum bp_hessian_at { BP_HESSIAN_END, BP_HESSIAN_EVERY, BP_HESSIAN_OFF } bp_hessian_at;

/* A hyperparameter value given in the config (or filled from a plugin default). */
typedef struct bp_hpval {
    char *name;
    double value;
    bp_mark mark;      /* where it was given; src NULL when filled from the default */
    int boolean;       /* declared BP_HP_BOOL by the plugin (set by bp_plugin_bind): dumped
                        * as true/false */
} bp_hpval;

/* A plugin named in the config with its hyperparameters: "sgd" or {name: sgd, lr: 0.1}. */
typedef struct bp_pluginref {
    char *name;        /* plugin name, or a path (contains '/' or ends in .so) */
    bp_mark mark;      /* mark of the name */
    char *key_path;    /* "train.optimizer", "model.activation[1]", ... for messages */
    size_t n_hp;
    bp_hpval *hp;
} bp_pluginref;

/* One entry of train.phases: from epoch `from` on, the optimizer's hyperparameters are those of
 * `optimizer` (train.optimizer's name and values, with the phase's own values replacing them). */
typedef struct bp_phase {
    int from;          /* 2 <= from <= train.epochs, increasing along the list */
    bp_mark mark;      /* mark of from's value */
    bp_pluginref optimizer;
} bp_phase;

/* A dataset reference: "file.h5#/group" (file resolved against the config's folder when given
 * in the file, against the working directory when given with --set) or "builtin:NAME[:ARGS]". */
typedef struct bp_dataref {
    char *ref;         /* NULL when not given */
    bp_mark mark;
} bp_dataref;

/* Bounds checked at validation, so a run folder's every path (OUTPUT/EXPERIMENT/trials/ID.h5.part,
 * OUTPUT/EXPERIMENT-lr-find.h5) fits a file name and PATH_MAX. */
#define BP_NAME_MAX 200
#define BP_OUTPUT_MAX 3700

typedef enum bp_output_kind { BP_OUTPUT_SOFTMAX, BP_OUTPUT_ACTIVATION } bp_output_kind;

typedef struct bp_config {
    char *path;            /* config file as given on the command line */
    char *text;            /* the file's text, verbatim (stored in the output for provenance) */
    bp_node *root;         /* the tree after overrides (owned) */
    char **overrides;      /* the --set assignments applied, in order */
    size_t n_overrides;

    char *experiment;      /* run name; default: config file name without extension;
                            * at most BP_NAME_MAX characters */
    uint64_t seed;         /* default 1 */

    struct {
        bp_dataref train;        /* required */
        bp_dataref validation;   /* another dataset, or ... */
        double val_fraction;     /* ... a fraction of train in [0, 1) (0 = none) */
        bp_dataref test;
        int standardize;         /* z-score features with the training set's mean and std */
    } data;

    struct {
        size_t n_sizes;          /* >= 2: input, hidden..., output */
        int *sizes;
        bp_mark sizes_mark;
        bp_pluginref *hidden;    /* n_sizes - 2 entries, one per hidden layer (expanded) */
        bp_output_kind output_kind;
        bp_pluginref output;     /* activation of the output layer when output_kind is ACTIVATION;
                                  * name "softmax" when SOFTMAX */
        bp_loss loss;
        bp_mark loss_mark;
        struct {
            bp_init_scheme scheme;
            double range;        /* uniform: weights and biases in [-range, range] */
            double gain;         /* xavier/he: multiplies the standard scale (default 1) */
            char *from;          /* BP_INIT_FROM: a trial or model file */
            bp_mark mark;
        } init;
    } model;

    struct {
        int epochs;              /* >= 1 */
        int batch_size;          /* >= 1; 0 = full batch */
        int shuffle;
        bp_pluginref optimizer;
        /* Added with the training helpers (docs/CONFIG.md, train.schedule and train.clip). */
        bp_lr_params schedule; /* kind BP_LR_CONSTANT when not given; cosine's t_max
                                      * defaults to epochs */
        bp_mark schedule_mark;       /* where train.schedule was given (src NULL: default) */
        bp_clip_kind clip;           /* BP_CLIP_NONE when not given */
        double clip_max;             /* > 0: max_norm (BP_CLIP_NORM) or v (BP_CLIP_VALUE) */
        /* Added with early stopping (docs/CONFIG.md, train.early_stopping and
         * train.target_loss). */
        struct {
            int patience;            /* >= 1; 0 when train.early_stopping is not given (off) */
            bp_es_metric metric;     /* default val_loss; val_* without validation data is a
                                      * config error */
            double min_delta;        /* >= 0 (default 0): an improvement must exceed it */
            int restore_best;        /* save the best epoch's parameters (default false) */
        } early_stopping;
        double target_loss;          /* > 0: stop at the first epoch with loss <= it; 0: off */
        /* Added with the growth rule of divergence (docs/CONFIG.md, train.diverge_factor). */
        double diverge_factor;       /* > 1: an epoch whose training loss exceeds it times the
                                      * first epoch's ends the trial `diverged`; 0: off;
                                      * default BP_DIVERGE_FACTOR_DEFAULT */
        /* Added with train.reduction and train.target_accuracy (docs/CONFIG.md). */
        bp_reduction reduction;      /* default mean: the gradient of the batch-mean loss; sum:
                                      * of the batch-sum loss */
        double target_accuracy;      /* in (0, 1]: stop at the first epoch with training
                                      * accuracy >= it; 0: off */
        double target_max_error;     /* > 0: stop at the first epoch after which every output
                                      * of every training row is within it of its target;
                                      * 0: off */
        /* Added with population-based training (docs/CONFIG.md, train.phases): the
         * hyperparameters change at these epochs (a PBT member's schedule replayed). */
        size_t n_phases;
        bp_phase *phases;            /* n_phases, owned */
    } train;

    char *output;              /* parent folder of run folders; default "runs"; at most
                                * BP_OUTPUT_MAX bytes */

    /* Added with diagnostics (docs/CONFIG.md `diagnostics`, docs/DIAGNOSTICS.md). Everything is
     * off (zero) when the section is not given; given, every switch defaults to on. */
    struct {
        int enabled;              /* the section was given */
        int grad_norm, weight_norm, update_ratio, dead_relu, distance, saturation;
        double sat_threshold;     /* saturation.threshold in (0, 1), default 0.05 */
        int plateau_window;       /* plateau.window >= 1, default 50; 0 = plateau: false */
        double plateau_tol;       /* plateau.tol >= 0, default 1e-3 */
        bp_hessian_at hessian_at; /* hessian.at: end (default), every K, off */
        int hessian_every;        /* K >= 1 when hessian_at is BP_HESSIAN_EVERY */
        int lanczos_steps;        /* hessian.lanczos_steps >= 1, default 20 */
        int trace_samples;        /* hessian.trace_samples >= 0, default 10 */
        int eigenvalues;          /* hessian.eigenvalues >= 1 extreme ones kept each side, default 1 */
        struct {
            double grad_tol;      /* verdict.grad_tol > 0, default 1e-3 */
            double eig_tol;       /* verdict.eig_tol >= 0, default 1e-3 */
            double flat_tol;      /* verdict.flat_tol >= 0, default 1e-6 */
            double saturated;     /* verdict.saturated in (0, 1], default 0.9 */
            int probe_steps;      /* verdict.probe_steps >= 0, default 20 (0: no probe) */
            double probe_tol;     /* verdict.probe_tol >= 0, default 1e-5 */
        } verdict;
        int path_points;          /* path.points >= 2, default 25; 0 = path: false */
        double path_extend;       /* path.extend >= 0, default 0.25 */
        struct {
            double loss_tol;      /* minima.loss_tol >= 0, default 0.01 */
            double dist_tol;      /* minima.dist_tol >= 0, default 0.25 (relative) */
            int permute;          /* minima.permute: match hidden units (default true) */
            int flip;             /* minima.flip: match sign-flipped units (default true) */
        } minima;
    } diagnostics;
} bp_config;

/* Read a config file, apply --set overrides (in order), validate, and return the config.
 * NULL on error. */
bp_config *bp_config_load(const char *path, char *const *overrides, size_t n_overrides,
                          bp_err *e);
/* Validate a tree (takes ownership of root on success and failure) into a new config. */
bp_config *bp_config_from_node(bp_node *root, const char *path, bp_err *e);
void bp_config_free(bp_config *c);

/* Write the resolved config as canonical YAML: every key, defaults filled in, plugin
 * hyperparameters included (after the plugin module filled them). */
void bp_config_dump(FILE *f, const bp_config *c);
/* The same, into a malloc'd string (NULL on ENOMEM). */
char *bp_config_dump_string(const bp_config *c);

/* "did you mean" helper: the candidate closest to word by edit distance, or NULL when none is
 * close enough. */
const char *bp_suggest(const char *word, const char *const *candidates, size_t n);

/* How a plain scalar's text reads as a number: an integer ([-+]?digits), or a decimal
 * ([-+]? (digits [. digits*] | . digits) ([eE] [-+]? digits)?). Shared by the config and the
 * sweep readers so both accept the same spellings. */
int bp_text_is_int(const char *s);
int bp_text_is_decimal(const char *s);
/* s as it appears in a message: one line (control characters as \xNN), cut at 60 characters
 * with "...". Writes into buf (size >= 8) and returns it. */
const char *bp_text_show(const char *s, char *buf, size_t size);
/* The same without the cut (up to what buf holds): a command-line argument quoted whole in a
 * message, which MUST stay one line. */
const char *bp_text_line(const char *s, char *buf, size_t size);

/* Format a mark as "file:line:col" into buf. */
const char *bp_mark_str(const bp_mark *m, char *buf, size_t size);

/* For the sweep's readers (sweep.c, space.c, pbt.c): what a node is, for "(got ...)":
 * 'text', quoted string 'text', a map or {} (empty), a sequence or [] (empty); into buf. */
const char *bp_node_got(const bp_node *n, char *buf, size_t size);
/* A config error: "FILE:LINE:COL: key: message" where m has a source, else "key: message";
 * sets e (code, usually BP_ECONFIG) and returns code. */
__attribute__((format(printf, 5, 6)))
int bp_config_err(bp_err *e, int code, const bp_mark *m, const char *key, const char *fmt, ...);

#endif
