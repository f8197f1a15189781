#include "autoconf.h"
#include "hyperband.h"

size_t bp_hyperband_brackets(int R, int eta, bp_hyperband_bracket *out)
{
    int s_max = 0;
    long long p = eta;   /* eta^(s_max + 1) */
    while (p <= R && s_max + 1 < BP_HYPERBAND_MAX_BRACKETS) {
        s_max++;
        p *= eta;
    }
    size_t nb = 0;
    for (int s = s_max; s >= 0; s--) {
        bp_hyperband_bracket *b = &out[nb++];
        long long es = 1;   /* eta^s */
        for (int i = 0; i < s; i++)
            es *= eta;
        /* n = ceil((s_max + 1) eta^s / (s + 1)), in integers */
        b->s = s;
        b->n = (size_t)(((long long)(s_max + 1) * es + s) / (s + 1));
        b->n_stages = (size_t)s + 1;
        long long div = es;   /* eta^(s - i) */
        size_t ni = b->n;     /* floor(n eta^-i) */
        for (int i = 0; i <= s; i++) {
            b->rungs[i] = (int)(R / div);
            if (b->rungs[i] < 1)
                b->rungs[i] = 1;
            size_t k = ni / (size_t)eta;
            b->keep[i] = k < 1 ? 1 : k;
            div /= eta;
            ni /= (size_t)eta;
        }
        b->rungs[s] = R;
    }
    return nb;
}

size_t bp_hyperband_points(int R, int eta)
{
    bp_hyperband_bracket b[BP_HYPERBAND_MAX_BRACKETS];
    size_t nb = bp_hyperband_brackets(R, eta, b), n = 0;
    for (size_t i = 0; i < nb; i++)
        n += b[i].n;
    return n;
}
