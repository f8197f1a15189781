/* tests/predict/rows.c - bprun/model.h over a whole dataset, built out of tree by
 * tests/predict.sh. Usage: rows TRIAL < ROWS (whitespace-separated floats, bp_model_n_inputs
 * per row). Runs every row in one call, then again one row per call and in chunks of 7, and
 * fails (exit 3) unless all give the same bits; prints each row's outputs (%.9g) and class. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bprun/model.h>

int main(int argc, char **argv)
{
    char *err = NULL;
    bp_model *m = argc == 2 ? bp_model_load(argv[1], &err) : NULL;
    if (!m) {
        fprintf(stderr, "rows: %s\n", err ? err : "usage: rows TRIAL < ROWS");
        free(err);
        return 1;
    }
    size_t d = bp_model_n_inputs(m), k = bp_model_n_outputs(m), n = 0, cap = 1024;
    float *in = malloc(cap * sizeof *in), v;
    while (in && scanf("%f", &v) == 1) {
        if (n == cap && !(in = realloc(in, (cap *= 2) * sizeof *in)))
            break;
        in[n++] = v;
    }
    size_t rows = n / d;
    float *a = malloc((rows * k + 1) * sizeof *a), *b = malloc((rows * k + 1) * sizeof *b);
    if (!in || !a || !b || n % d)
        return 1;
    int rc = bp_model_run(m, rows, d, in, a);
    for (size_t i = 0; !rc && i < rows; i++)
        rc = bp_model_run(m, 1, d, in + i * d, b + i * k);
    if (!rc && memcmp(a, b, rows * k * sizeof *a))
        return fprintf(stderr, "rows: one call and row by row differ\n"), 3;
    for (size_t i = 0; !rc && i < rows; i += 7)
        rc = bp_model_run(m, rows - i < 7 ? rows - i : 7, d, in + i * d, b + i * k);
    if (!rc && memcmp(a, b, rows * k * sizeof *a))
        return fprintf(stderr, "rows: one call and chunks of 7 differ\n"), 3;
    if (rc || bp_model_run(m, 1, d + 1, in, b) != BP_MODEL_EINVAL)
        return fprintf(stderr, "rows: bp_model_run returned %d\n", rc), 1;
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < k; j++)
            printf("%.9g ", (double)a[i * k + j]);
        printf("%zu\n", bp_model_class(m, a + i * k));
    }
    free(in);
    free(a);
    free(b);
    bp_model_free(m);
    return 0;
}
