/* numtext.c - a double as %.<prec>g text without printf (numtext.h). */
#include "numtext.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static const double p10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

/* v * 10^k, with one rounding where 10^k is exact */
static double scale(double v, int k)
{
    if (k > 300)                      /* subnormal v: 10^k itself would overflow */
        return v * 1e300 * pow(10.0, k - 300);
    if (k >= 0)
        return k <= 22 ? v * p10[k] : v * pow(10.0, k);
    return -k <= 22 ? v / p10[-k] : v / pow(10.0, -k);
}

size_t bp_numtext_g(char *out, double v, int prec)
{
    if (isnan(v))
        return (size_t)(strcpy(out, "nan"), 3);
    if (isinf(v))
        return v > 0 ? (strcpy(out, "inf"), 3) : (strcpy(out, "-inf"), 4);
    prec = prec < 1 ? 1 : prec > 12 ? 12 : prec;
    size_t n = 0;
    if (signbit(v)) {
        out[n++] = '-';
        v = -v;
    }
    if (v == 0) {
        out[n++] = '0';
        out[n] = 0;
        return n;
    }
    /* m: v's prec significant digits as an integer, 10^(prec-1) <= m < 10^prec; v ~ m 10^(e-prec+1) */
    int e2;
    frexp(v, &e2);                    /* 2^(e2-1) <= v < 2^e2: log10 v within a step of this */
    int e = (int)floor((e2 - 1) * 0.30102999566398120);
    double lo = p10[prec - 1], hi = p10[prec];
    double m = nearbyint(scale(v, prec - 1 - e));
    if (m >= hi) {                    /* e one low (or v rounded up to the next power) */
        e++;
        m = nearbyint(scale(v, prec - 1 - e));
    }
    if (m >= hi) {                    /* 9.9999..5 rounded up: 10^prec */
        m = lo;
        e++;
    }
    char d[16];
    uint64_t u = (uint64_t)m;
    for (int i = prec - 1; i >= 0; i--) {
        d[i] = (char)('0' + u % 10);
        u /= 10;
    }
    int nd = prec;
    while (nd > 1 && d[nd - 1] == '0')  /* %g drops trailing zeros */
        nd--;
    if (e < -4 || e >= prec) {          /* d.ddde+XX */
        out[n++] = d[0];
        if (nd > 1) {
            out[n++] = '.';
            memcpy(out + n, d + 1, (size_t)nd - 1);
            n += (size_t)nd - 1;
        }
        out[n++] = 'e';
        out[n++] = e < 0 ? '-' : '+';
        int x = e < 0 ? -e : e;
        if (x >= 100)
            out[n++] = (char)('0' + x / 100);
        out[n++] = (char)('0' + x / 10 % 10);
        out[n++] = (char)('0' + x % 10);
    } else if (e >= 0) {                /* ddd.ddd */
        for (int i = 0; i <= e; i++)
            out[n++] = i < nd ? d[i] : '0';
        if (nd > e + 1) {
            out[n++] = '.';
            memcpy(out + n, d + e + 1, (size_t)(nd - e - 1));
            n += (size_t)(nd - e - 1);
        }
    } else {                            /* 0.000ddd */
        out[n++] = '0';
        out[n++] = '.';
        for (int i = 0; i < -e - 1; i++)
            out[n++] = '0';
        memcpy(out + n, d, (size_t)nd);
        n += (size_t)nd;
    }
    out[n] = 0;
    return n;
}
