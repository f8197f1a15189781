/* numtext.h - a double as short decimal text, fast: for the many numbers of a page's curves
 * (report_html.c), where printf's "%.*g" (exact multiprecision rounding) costs more than the
 * rest of the page.
 */
#ifndef BP_NUMTEXT_H
#define BP_NUMTEXT_H

#include <stddef.h>

/* The text "%.<prec>g" gives for v, into out (NUL-terminated; at most 24 bytes with it),
 * prec 1 .. 12 (clamped), returning its length. The digits are v rounded to prec
 * significant digits in double arithmetic: the last digit MAY differ from printf's by one
 * when v lies within a few units in the last place of a rounding tie; the value read back is
 * always within one unit of the prec-th digit of v. Up to 9 digits the text is printf's but for such ties. NaN and infinities give "nan",
 * "inf", "-inf" (as printf). */
size_t bp_numtext_g(char *out, double v, int prec);

#endif
