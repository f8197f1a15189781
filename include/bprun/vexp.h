/* bprun/vexp.h - expf in plain C that compilers vectorize (no libm call), for activation
 * plugins and bprun's own softmax.
 *
 * bp_vexpf(x) = exp(x): within 2 ulp of the exact value where the result is normal
 * (-87.3 <= x <= 88.7; tests/check_plugin measures it against double exp), a subnormal or 0
 * below, +inf above, NaN for NaN. Only IEEE additions and multiplications in a fixed order, no table, no branch:
 * the result is a function of x alone, the same in a vector body and its scalar tail, on any
 * thread count. Loops over it vectorize with `#pragma omp simd` (-fopenmp or -fopenmp-simd)
 * and -fno-trapping-math (which changes no value; with trapping math GCC 12 keeps the clamps
 * below as branches). Bits do not depend on the CPU either as long as the compiler does not
 * fuse a*b+c into one rounding: -std=c11 implies -ffp-contract=off in GCC; bprun builds so.
 *
 * BP_VCLONES before a function asks GCC (x86-64) for an AVX2 clone beside the baseline one,
 * chosen at load time by the CPU: twice the lanes, the same bits under -ffp-contract=off.
 *
 * Method: n = round(x / ln 2) by the 1.5 * 2^23 rounding trick, r = x - n ln 2 in two parts
 * (Cody & Waite), exp(r) on |r| <= ln(2)/2 by the degree-7 minimax polynomial of Cephes'
 * expf, then 2^n as two exact power-of-two factors so results down to the subnormals are
 * right. glibc's expf is correctly rounded in most cases but is a call per element; this is
 * 4 or 8 lanes at a time. */
#ifndef BPRUN_VEXP_H
#define BPRUN_VEXP_H

#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__) && !defined(BP_NO_CLONES)
#define BP_VCLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define BP_VCLONES
#endif

static inline float bp_vexpf(float x)
{
    /* exp(-104) rounds to 0, exp(89) to +inf; NaN passes both compares */
    x = x < -104.0f ? -104.0f : x;
    x = x > 89.0f ? 89.0f : x;
    const float shift = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float t = x * 1.44269504088896341f + shift;
    float n = t - shift;                 /* round(x / ln 2), in [-150, 129] */
    float r = x - n * 0.693359375f;      /* n * ln2_hi is exact: 9 + 8 significant bits */
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = (p * r) * r + r + 1.0f;
    /* 2^n = 2^h * 2^(n-h), h = floor(n/2): both factors normal. n as an integer is the low
     * bits of t (unsigned arithmetic: for NaN they are garbage, and y is NaN already). */
    uint32_t tb, sb;
    memcpy(&tb, &t, sizeof tb);
    memcpy(&sb, &shift, sizeof sb);
    uint32_t ni = tb - sb;
    uint32_t h = (uint32_t)((int32_t)ni >> 1);
    uint32_t b1 = (h + 127u) << 23, b2 = (ni - h + 127u) << 23;
    float s1, s2;
    memcpy(&s1, &b1, sizeof s1);
    memcpy(&s2, &b2, sizeof s2);
    return y * s1 * s2;
}

#endif
