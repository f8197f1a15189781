/* bprun/vexp.h - expf, expm1f, tanhf and log1pf in plain C that compilers vectorize (no libm
 * call), for activation plugins and bprun's own softmax.
 *
 * Each is only IEEE additions, multiplications and divisions in a fixed order (each correctly
 * rounded), integer bit operations and selects: no table, no branch. A result is a function
 * of x alone, the same in a vector body and its scalar tail, on any thread count. Loops over
 * them vectorize with `#pragma omp simd` (-fopenmp or -fopenmp-simd) and -fno-trapping-math
 * (which changes no value; with trapping math GCC 12 keeps the clamps and selects below as
 * branches). Bits do not depend on the CPU either as long as the compiler does not fuse a*b+c
 * into one rounding: -std=c11 implies -ffp-contract=off in GCC; bprun builds so.
 * glibc's functions are correctly rounded in most cases but are a call per element; these
 * are 4 or 8 lanes at a time.
 *
 * BP_VCLONES before a function asks GCC (x86-64) for an AVX2 clone beside the baseline one,
 * chosen at load time by the CPU: twice the lanes, the same bits under -ffp-contract=off.
 *
 * bp_vexpf(x) = exp(x): within 2 ulp of the exact value where the result is normal
 * (-87.3 <= x <= 88.7; tests/check_plugin measures it against double exp), a subnormal or 0
 * below, +inf above, NaN for NaN. Method: n = round(x / ln 2) by the 1.5 * 2^23 rounding
 * trick, r = x - n ln 2 in two parts (Cody & Waite), exp(r) on |r| <= ln(2)/2 by the degree-7
 * minimax polynomial of Cephes' expf (evaluated by Estrin's scheme: a short dependent chain,
 * for callers that wait on each result), then 2^n as the product of two exact power-of-two
 * factors so results down to the subnormals are right (measured worst: 1.63 ulp). */
#ifndef BPRUN_VEXP_H
#define BPRUN_VEXP_H

#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__) && !defined(BP_NO_CLONES)
#define BP_VCLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define BP_VCLONES
#endif

/* The reduction bp_vexpf and bp_vexpm1f share: n = round(x / ln 2) (returned as a float),
 * *r = x - n ln 2 in two parts, and *ni = n as an integer, the low bits of x / ln 2 + 1.5 * 2^23
 * (unsigned arithmetic: for NaN they are garbage, and the result is NaN already). x must be
 * clamped so that |n| < 2^22. */
static inline float bp_vexp_reduce_(float x, float *r, uint32_t *ni)
{
    const float shift = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float t = x * 1.44269504088896341f + shift;
    float n = t - shift;
    float rr = x - n * 0.693359375f;     /* n * ln2_hi is exact: 9 + 8 significant bits */
    *r = rr - n * -2.12194440e-4f;
    uint32_t tb, sb;
    memcpy(&tb, &t, sizeof tb);
    memcpy(&sb, &shift, sizeof sb);
    *ni = tb - sb;
    return n;
}

static inline float bp_vexpf(float x)
{
    /* exp(-104) rounds to 0, exp(89) to +inf; NaN passes both compares */
    x = x < -104.0f ? -104.0f : x;
    x = x > 89.0f ? 89.0f : x;
    float r;
    uint32_t ni;
    float n = bp_vexp_reduce_(x, &r, &ni); /* in [-150, 129] */
    /* exp(r) = 1 + r + a2 r^2 + ... + a7 r^7 (Cephes' expf polynomial) by Estrin's scheme:
     * four independent pairs combined with r^2 and r^4, a third of the dependent operations
     * of Horner's rule, which matters where each exp waits for the previous one (an online
     * step of a tiny net) */
    float r2 = r * r, r4 = r2 * r2;
    float q01 = r + 1.0f;
    float q23 = 5.0000001201e-1f + 1.6666665459e-1f * r;
    float q45 = 4.1665795894e-2f + 8.3334519073e-3f * r;
    float q67 = 1.3981999507e-3f + 1.9875691500e-4f * r;
    float y = (q01 + r2 * q23) + r4 * (q45 + r2 * q67);
    /* 2^n = 2^h * 2^(n-h), h = floor(n/2), both factors normal; for n <= 127 their product,
     * formed beside the polynomial, is 2^n exactly down to the smallest subnormal (n >= -149;
     * n = -150 gives 0), above it y is scaled by one factor and then the other */
    uint32_t h = (uint32_t)((int32_t)ni >> 1);
    uint32_t b1 = (h + 127u) << 23, b2 = (ni - h + 127u) << 23;
    float s1, s2;
    memcpy(&s1, &b1, sizeof s1);
    memcpy(&s2, &b2, sizeof s2);
    return n > 127.5f ? (y * s1) * s2 : y * (s1 * s2);
}

/* bp_vexpm1f(x) = exp(x) - 1, accurate near 0 where exp(x) - 1 would cancel: within 2 ulp of
 * the exact value up to 88.72 (tests/check_plugin measures it), -1 below -17.33 (rounded),
 * +inf above, NaN for NaN, -0 for -0, x itself for tiny x. The reduction and the polynomial's
 * coefficients are bp_vexpf's (the polynomial by Horner's rule here): exp(x) = 2^n (1 + q), q = exp(r) - 1 = r + r^2 P(r) with no cancellation, and
 * expm1(x) = 2^n q + (2^n - 1), where 2^n - 1 is exact for -43 <= n <= 24 (x clamped to -30,
 * whose expm1 rounds to -1). For n > 24 the -1 hardly matters and 2^n may overflow (n = 128
 * near 88.7): there it is (1 + q) 2^(n-1) 2 - 1, bp_vexpf's order. */
static inline float bp_vexpm1f(float x)
{
    float x0 = x;
    x = x < -30.0f ? -30.0f : x;
    x = x > 89.0f ? 89.0f : x;
    float r;
    uint32_t ni;
    float n = bp_vexp_reduce_(x, &r, &ni); /* in [-43, 128] */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float q = (p * r) * r + r;           /* exp(r) - 1; r = x exactly when n = 0 */
    uint32_t hb = (ni + 126u) << 23;     /* 2^(n-1): normal for every n here */
    float h;
    memcpy(&h, &hb, sizeof h);
    float s = h * 2.0f;                  /* 2^n, exact; +inf only for n = 128 (not used then) */
    float lo = q * s + (s - 1.0f);
    float hi = (q + 1.0f) * h * 2.0f - 1.0f;
    float y = n > 24.0f ? hi : lo;
    return x0 == 0.0f ? x0 : y;          /* keeps the sign of a zero */
}

/* bp_vtanhf(x) = tanh(x): within 2 ulp of the exact value everywhere (relative, so also for
 * tiny x; tests/check_plugin measures it), +-1 for |x| >= 9.01 (rounded) and +-inf, +-0 for
 * +-0, NaN for NaN, and exactly odd: bp_vtanhf(-x) = -bp_vtanhf(x). Cephes' tanhf on |x|:
 * below 0.625 the odd polynomial |x| + |x|^3 P(x^2) (no cancellation near 0), else
 * 1 - 2 / (exp(2|x|) + 1) with bp_vexpf; both are computed and one is selected (no branch),
 * then x's sign bit is put back. */
static inline float bp_vtanhf(float x)
{
    uint32_t xb, ab, yb;
    memcpy(&xb, &x, sizeof xb);
    const uint32_t sign = xb & 0x80000000u;
    ab = xb ^ sign;
    float ax;
    memcpy(&ax, &ab, sizeof ax);
    float z = ax * ax;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = (p * z) * ax + ax;
    float e = bp_vexpf(ax + ax);         /* +inf for large |x|: then 2 / inf = 0 */
    float big = 1.0f - 2.0f / (e + 1.0f);
    float y = ax < 0.625f ? small : big; /* NaN: big, which is NaN */
    memcpy(&yb, &y, sizeof yb);
    yb |= sign;
    memcpy(&y, &yb, sizeof y);
    return y;
}

/* bp_vlog1pf(x) = log(1 + x), accurate near 0 where log(1 + x) would lose x's low bits:
 * within 1 ulp of the exact value for every x > -1 (tests/check_plugin measures it), -inf at
 * -1, NaN below -1 and for NaN, +inf for +inf, -0 for -0, x itself for tiny x. musl's log1pf
 * (from FreeBSD) without its branches: u = 1 + x = 2^k (1 + f) with 1 + f in [sqrt(2)/2,
 * sqrt(2)) taken from the bits, log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)), s = f / (2 + f),
 * R of degree 4 in s^2, plus k ln 2 in two parts and c = (1 + x - u) / u, the rounding error
 * of 1 + x (dropped for k >= 25, where it is below half an ulp of the result). */
static inline float bp_vlog1pf(float x)
{
    float u = 1.0f + x;
    uint32_t iu;
    memcpy(&iu, &u, sizeof iu);
    iu += 0x3f800000u - 0x3f3504f3u;     /* exponent of u rounded at sqrt(2), not 2 */
    int32_t k = (int32_t)(iu >> 23) - 0x7f;
    float c = k >= 2 ? 1.0f - (u - x) : x - (u - 1.0f); /* both exact */
    c = k < 25 ? c / u : 0.0f;
    iu = (iu & 0x007fffffu) + 0x3f3504f3u;
    float f;
    memcpy(&f, &iu, sizeof f);
    f = f - 1.0f;                        /* exact: 1 + f in [sqrt(2)/2, sqrt(2)) */
    float s = f / (2.0f + f);
    float z = s * s, w = z * z;
    float t1 = w * (4.0000972152e-1f + w * 2.4279078841e-1f);
    float t2 = z * (6.6666662693e-1f + w * 2.8498786688e-1f);
    float hfsq = 0.5f * f * f;
    float dk = (float)k;
    float y = s * (hfsq + (t2 + t1)) + (dk * 9.0580006145e-6f + c) - hfsq + f +
              dk * 6.9313812256e-1f;
    const uint32_t nanb = 0x7fc00000u, minfb = 0xff800000u;
    float nan, minf;
    memcpy(&nan, &nanb, sizeof nan);
    memcpy(&minf, &minfb, sizeof minf);
    y = x == 0.0f ? x : y;               /* keeps the sign of a zero */
    y = x == -1.0f ? minf : y;
    y = x < -1.0f ? nan : y;
    return x <= 3.40282347e38f ? y : x;  /* +inf and NaN: x itself */
}

#endif
