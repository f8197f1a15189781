/* examples/predict.c - a net trained by bprun, run from C (bprun/model.h).
 * Build: cc predict.c $(pkg-config --cflags --libs bprun-model) -o predict
 * Usage: ./predict TRIAL_FILE X1 X2 ...   (one row of raw features) */
#include <stdio.h>
#include <stdlib.h>

#include <bprun/model.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s TRIAL_FILE X1 X2 ...\n", argv[0]);
        return 2;
    }
    char *err = NULL;
    bp_model *m = bp_model_load(argv[1], &err);
    if (!m) {
        fprintf(stderr, "predict: %s\n", err ? err : "out of memory");
        free(err);
        return 1;
    }
    size_t n_in = (size_t)argc - 2, k = bp_model_n_outputs(m);
    float *in = calloc(n_in + 1, sizeof *in), *out = calloc(k, sizeof *out);
    for (size_t i = 0; i < n_in; i++)
        in[i] = strtof(argv[i + 2], NULL);
    int rc = in && out ? bp_model_run(m, 1, n_in, in, out) : BP_MODEL_ENOMEM;
    if (rc == 0) {
        for (size_t j = 0; j < k; j++)
            printf("output_%zu %.9g\n", j, (double)out[j]);
        printf("class %zu\n", bp_model_class(m, out));
    } else {
        fprintf(stderr, "predict: %s\n", rc == BP_MODEL_EINVAL
                ? "wrong number of features for this model" : "out of memory");
    }
    free(in);
    free(out);
    bp_model_free(m);
    return rc ? 1 : 0;
}
