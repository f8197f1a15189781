#include "autoconf.h"
#include "rng.h"

#include <math.h>

uint64_t bp_rng_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

bp_rng bp_rng_stream(uint64_t seed, uint64_t trial, bp_rng_purpose purpose, uint64_t epoch)
{
    uint64_t k = bp_rng_mix(seed + 0x9e3779b97f4a7c15ULL);
    k = bp_rng_mix(k ^ (trial + 0x632be59bd9b4e019ULL));
    k = bp_rng_mix(k ^ ((uint64_t)purpose * 0x8cb92ba72f3d8dd7ULL));
    k = bp_rng_mix(k ^ (epoch + 0xd1b54a32d192ed03ULL));
    return (bp_rng){ .key = k, .ctr = 0 };
}

uint64_t bp_rng_u64(bp_rng *r)
{
    return bp_rng_mix(r->key + 0x9e3779b97f4a7c15ULL * ++r->ctr);
}

double bp_rng_uniform(bp_rng *r)
{
    return (double)(bp_rng_u64(r) >> 11) * 0x1.0p-53;
}

double bp_rng_normal(bp_rng *r)
{
    double u1 = bp_rng_uniform(r), u2 = bp_rng_uniform(r);
    if (u1 <= 0.0)
        u1 = 0x1.0p-53;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

uint64_t bp_rng_below(bp_rng *r, uint64_t n)
{
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = bp_rng_u64(r);
    while (x >= lim);
    return x % n;
}

void bp_rng_permutation(bp_rng *r, uint32_t *idx, size_t n)
{
    for (size_t i = 0; i < n; i++)
        idx[i] = (uint32_t)i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)bp_rng_below(r, i);
        uint32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
