/* bench-fann.c - the FANN side of scripts/bench (compiled there against libfann-dev).
 *   bench-fann xor EPOCHS          W1: 2-2-1 sigmoid, incremental (online) SGD lr 0.5, in order
 *   bench-fann w2 EPOCHS FILE      64-128-10 sigmoid, incremental SGD lr 0.1, shuffled each
 *                                  epoch; FILE in FANN's text format (FANN has no softmax and no
 *                                  mini-batches: an indication, not W2)
 *   bench-fann w5 EPOCHS RESTARTS  W5: RESTARTS times W1's net from new random weights, each
 *                                  trained EPOCHS epochs with fann_train_on_data (no output)
 * Prints the seconds spent in the training loop (w5: the whole loop, nets created included). */
#include <floatfann.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench-fann xor|w2 EPOCHS [FILE]\n");
        return 2;
    }
    int epochs = atoi(argv[2]), w2 = !strcmp(argv[1], "w2"), w5 = !strcmp(argv[1], "w5");
    int restarts = w5 && argc > 3 ? atoi(argv[3]) : 1;
    struct fann *ann;
    struct fann_train_data *d;
    if (w2) {
        if (argc < 4 || !(d = fann_read_train_from_file(argv[3])))
            return 1;
        ann = fann_create_standard(3, 64, 128, 10);
        fann_set_learning_rate(ann, 0.1f);
    } else {
        fann_type in[4][2] = { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } }, out[4][1] = { { 0 }, { 1 }, { 1 }, { 0 } };
        d = fann_create_train(4, 2, 1);
        if (!d)
            return 1;
        for (int i = 0; i < 4; i++) {
            memcpy(d->input[i], in[i], sizeof in[i]);
            memcpy(d->output[i], out[i], sizeof out[i]);
        }
        ann = fann_create_standard(3, 2, 2, 1);
        fann_set_learning_rate(ann, 0.5f);
    }
    if (!ann)
        return 1;
    fann_set_training_algorithm(ann, FANN_TRAIN_INCREMENTAL);
    fann_set_learning_momentum(ann, 0.0f);
    fann_set_train_error_function(ann, FANN_ERRORFUNC_LINEAR);
    fann_set_activation_function_hidden(ann, FANN_SIGMOID);
    fann_set_activation_function_output(ann, FANN_SIGMOID);
    fann_set_activation_steepness_hidden(ann, 1.0f);
    fann_set_activation_steepness_output(ann, 1.0f);
    fann_randomize_weights(ann, -1.0f, 1.0f);
    if (w5) {
        double t0 = now();
        unsigned solved = 0;
        for (int r = 0; r < restarts; r++) {
            struct fann *n = r ? fann_copy(ann) : ann;
            fann_randomize_weights(n, -1.0f, 1.0f);
            fann_train_on_data(n, d, (unsigned)epochs, 0, 0.0f);
            solved += fann_get_MSE(n) < 0.01f;
            if (r)
                fann_destroy(n);
        }
        double t = now() - t0;
        fprintf(stderr, "solved %u of %d\n", solved, restarts);
        printf("%.6f\n", t);
        fann_destroy_train(d);
        fann_destroy(ann);
        return 0;
    }
    double t0 = now(), mse = 0;
    for (int e = 0; e < epochs; e++) {
        if (w2)
            fann_shuffle_train_data(d);
        mse = fann_train_epoch(ann, d);
    }
    double t = now() - t0;
    fprintf(stderr, "final mse %g\n", mse);
    printf("%.6f\n", t);
    fann_destroy_train(d);
    fann_destroy(ann);
    return 0;
}
