/* cmd_import.c - bprun import KIND ... (cmd_import.h): CSV, IDX or a built-in dataset written
 * in bprun's HDF5 layout */
#include "autoconf.h"
#include "cmd_import.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data.h"
#include "generate.h"

const char bp_usage_import[] =
    "usage: bprun import csv FILE -o OUT.h5#/GROUP [--label-column N|NAME] [--header|--no-header]\n"
    "                    [--delimiter C] [--force]\n"
    "       bprun import idx IMAGES LABELS -o OUT.h5#/GROUP [--scale S] [--force]\n"
    "       bprun import builtin:NAME[:ARGS] -o OUT.h5#/GROUP [--force]\n"
    "\n"
    "Convert a dataset to bprun's HDF5 layout (docs/DATA.md): X (N x D float32) and y (class\n"
    "labels) or Y (N x K targets). Files ending in .gz are decompressed.\n"
    "\n"
    "  -o, --output REF       destination file#group (required)\n"
    "  -l, --label-column C   CSV: the label column, by number (from 1; default: the last)\n"
    "                         or header name; text labels are numbered in sorted order\n"
    "      --header           CSV: the first row is a header\n"
    "      --no-header        CSV: the first row is data (default: detected)\n"
    "  -d, --delimiter C      CSV: field delimiter (default: detected among , ; tab space)\n"
    "      --scale S          IDX: multiply every feature by S (default 1; 0.00392156862745098\n"
    "                         = 1/255 maps pixels to [0, 1])\n"
    "  -f, --force            replace an existing group\n"
    "  -h, --help             show this help\n"
    "\n"
    "built-in datasets: xor, parity:N, encoder:N, spirals (see docs/DATA.md)\n";

typedef struct import_cli {
    bp_csv_opts co;
    double scale;
} import_cli;

static int take(void *ud, int ch, const char *arg, bp_err *e)
{
    import_cli *o = ud;
    char *end;
    switch (ch) {
    case 'l':
        errno = 0;
        o->co.label_column = strtol(arg, &end, 10);
        if (errno || *end || end == arg) {
            o->co.label_name = arg;
            o->co.label_column = -1;
        } else if (o->co.label_column < 1) {
            return bp_cli_usage(e, "--label-column: columns count from 1 (got '%s')", arg);
        } else {
            o->co.label_column -= 1;
        }
        return 0;
    case 'H':
        o->co.header = 1;
        return 0;
    case 'N':
        o->co.header = 0;
        return 0;
    case 'd':
        if (strlen(arg) != 1 && strcmp(arg, "\\t") && strcmp(arg, "tab"))
            return bp_cli_usage(e, "--delimiter: expected one character (got '%s')", arg);
        o->co.delimiter = strlen(arg) == 1 ? arg[0] : '\t';
        return 0;
    default: /* 'S' */
        if (bp_cli_number(arg, &o->scale) || o->scale == 0)
            return bp_cli_usage(e, "--scale: expected a finite non-zero number (got '%s')", arg);
        return 0;
    }
}

static int split_ref(const char *ref, char *file, size_t fsz, const char **group)
{
    const char *h = strrchr(ref, '#');
    size_t n = h ? (size_t)(h - ref) : strlen(ref);
    if (n == 0 || n >= fsz)
        return -1;
    memcpy(file, ref, n);
    file[n] = '\0';
    *group = h && h[1] ? h + 1 : "/";
    return 0;
}

static const struct option import_options[] = {
    { "label-column", required_argument, NULL, 'l' }, { "header", no_argument, NULL, 'H' },
    { "no-header", no_argument, NULL, 'N' }, { "delimiter", required_argument, NULL, 'd' },
    { "scale", required_argument, NULL, 'S' }
};

int bp_cmd_import(int argc, char **argv, FILE *out, bp_err *e)
{
    import_cli o = { .co = { .header = -1, .delimiter = 0, .label_column = -1,
                             .labels_text = -1 }, .scale = NAN };
    bp_cli c = { 0 };
    bp_cli_spec spec = { .cmd = "import", .usage = bp_usage_import, .shared = "of",
                         .shorts = ":o:l:d:fh", .own = import_options,
                         .n_own = sizeof import_options / sizeof import_options[0],
                         .take = take, .ud = &o };
    int i = bp_cli_parse(argc, argv, &spec, &c, out, e);
    bp_cli_free(&c);
    if (i <= 0)
        return i;
    int nargs = argc - i;
    char **a = argv + i;
    if (nargs < 1)
        return bp_cli_usage(e, "%s", "missing KIND (csv, idx or builtin:NAME)");
    if (!c.output)
        return bp_cli_usage(e, "%s", "missing -o OUT.h5#/GROUP");
    char file[4096];
    const char *group;
    if (split_ref(c.output, file, sizeof file, &group))
        return bp_cli_usage(e, "-o: expected FILE.h5#/GROUP (got '%s')", c.output);
    bp_dataset *d = NULL;
    if (!strcmp(a[0], "csv")) {
        if (nargs != 2)
            return bp_cli_usage(e, "%s", "csv needs exactly one FILE");
        d = bp_import_csv(a[1], &o.co, e);
    } else if (!strcmp(a[0], "idx")) {
        if (nargs != 3)
            return bp_cli_usage(e, "%s", "idx needs IMAGES and LABELS");
        d = bp_import_idx(a[1], a[2], isnan(o.scale) ? 1.0 : o.scale, e);
    } else if (!strncmp(a[0], "builtin:", 8)) {
        if (nargs != 1)
            return bp_cli_usage(e, "%s", "builtin:NAME takes no files");
        d = bp_data_generate(a[0], e);
    } else {
        return bp_cli_usage(e, "unknown KIND '%s' (expected csv, idx or builtin:NAME)", a[0]);
    }
    if (!d)
        return e->code;
    if (bp_data_write(d, file, group, c.force, e)) {
        bp_data_free(d);
        return e->code;
    }
    fprintf(out, "wrote %s#%s: %zu row%s x %zu feature%s, %zu %s\n", file, group, d->n,
            bp_s(d->n), d->d, bp_s(d->d), d->k, d->kind == BP_TARGET_LABELS
            ? d->k == 1 ? "class" : "classes" : d->k == 1 ? "target" : "targets");
    bp_data_free(d);
    return 0;
}
