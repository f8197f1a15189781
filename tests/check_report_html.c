/* Unit tests of the HTML report's place in a run folder (runfolder.c: report.html and its
 * .part told by their first line) and of report_html.c's file output (-o: FILE.part renamed,
 * nothing left after a failure; html refused with a message without dygraphs). The page itself
 * is tested end to end in a browser: tests/html.sh. */
#include "autoconf.h"

#include <check.h>
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "numtext.h"
#include "report_html.h"
#include "runfolder.h"

static char tmp[512];

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/check_report_html.XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void teardown(void)
{
    nftw(tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void put(const char *name, const char *text)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", tmp, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* scan tmp: the entry called name is ours (1), bad (0, *why set) or absent (-1) */
static int classify(const char *name, const char **why)
{
    bp_err e;
    bp_err_clear(&e);
    int fd = bp_folder_open(tmp, &e);
    ck_assert_int_ge(fd, 0);
    bp_folder f;
    ck_assert_int_eq(bp_folder_scan(fd, tmp, 1, &f, &e), 0);
    int r = -1;
    for (size_t i = 0; i < f.n_ours; i++)
        if (!strcmp(f.ours[i].name, name))
            r = 1;
    for (size_t i = 0; i < f.n_bad; i++)
        if (!strcmp(f.bad[i].name, name)) {
            r = 0;
            *why = f.bad[i].why;   /* static text */
        }
    int empty = f.empty;
    bp_folder_free(&f);
    close(fd);
    return r < 0 ? r : r + 10 * empty;   /* + 10 when the folder still counts as empty */
}

START_TEST(report_html_is_ours_by_first_line)
{
    const char *why = NULL;
    put(BP_RUN_REPORT_HTML, BP_REPORT_HTML_MAGIC " runs/x -->\n<html></html>\n");
    ck_assert_int_eq(classify(BP_RUN_REPORT_HTML, &why), 1);   /* ours, not empty */
    put(BP_RUN_REPORT_HTML, "<!DOCTYPE html>\n<!-- my own notes -->\n");
    ck_assert_int_eq(classify(BP_RUN_REPORT_HTML, &why), 0);
    ck_assert_str_eq(why, "not a report bprun wrote");
    put(BP_RUN_REPORT_HTML, "<!DOC");   /* a finished file never is a prefix */
    ck_assert_int_eq(classify(BP_RUN_REPORT_HTML, &why), 0);
    char p[600], q[600];
    snprintf(p, sizeof p, "%s/%s", tmp, BP_RUN_REPORT_HTML);
    ck_assert_int_eq(unlink(p), 0);
    /* a .part: the line's beginning (a writer killed early) or all of it; an empty folder */
    put(BP_RUN_REPORT_HTML ".part", "<!DOC");
    ck_assert_int_eq(classify(BP_RUN_REPORT_HTML ".part", &why), 11);
    put(BP_RUN_REPORT_HTML ".part", "");
    ck_assert_int_eq(classify(BP_RUN_REPORT_HTML ".part", &why), 11);
    put(BP_RUN_REPORT_HTML ".part", "<html>");
    ck_assert_int_eq(classify(BP_RUN_REPORT_HTML ".part", &why), 0);
    snprintf(q, sizeof q, "%s/%s.part", tmp, BP_RUN_REPORT_HTML);
    ck_assert_int_eq(unlink(q), 0);
    /* a symbolic link to a real report is not bprun's */
    put("elsewhere.html", BP_REPORT_HTML_MAGIC " runs/x -->\n");
    ck_assert_int_eq(symlink("elsewhere.html", p), 0);
    ck_assert_int_eq(classify(BP_RUN_REPORT_HTML, &why), 0);
    ck_assert_str_eq(why, "a symbolic link, not a file bprun wrote");
}
END_TEST

START_TEST(output_to_file_leaves_nothing_on_failure)
{
    bp_err e;
    bp_err_clear(&e);
    const char *dir = tmp;   /* no index.h5: not a run folder */
    char out[600], part[620], msg[700];
    snprintf(out, sizeof out, "%s/r.json", tmp);
    snprintf(part, sizeof part, "%s.part", out);
    bp_report_opts o = { .format = BP_REPORT_JSON, .alpha = 0.05 };
    ck_assert_int_eq(bp_report_output(&dir, 1, &o, out, NULL, &e), BP_EDATA);
    ck_assert_int_ne(access(out, F_OK), 0);
    ck_assert_int_ne(access(part, F_OK), 0);
    /* a folder that does not exist: the file named, nothing created */
    bp_err_clear(&e);
    snprintf(out, sizeof out, "%s/none/r.json", tmp);
    ck_assert_int_eq(bp_report_output(&dir, 1, &o, out, NULL, &e), BP_EIO);
    snprintf(msg, sizeof msg, "%s: cannot write: No such file or directory", out);
    ck_assert_str_eq(e.msg, msg);
    /* html: refused before anything is written when built without dygraphs */
    bp_err_clear(&e);
    o.format = BP_REPORT_HTML;
    snprintf(out, sizeof out, "%s/r.html", tmp);
    int rc = bp_report_output(&dir, 1, &o, out, NULL, &e);
    if (bp_report_html_available()) {
        ck_assert_int_eq(rc, BP_EDATA);
    } else {
        ck_assert_int_eq(rc, BP_EUSAGE);
        ck_assert_ptr_nonnull(strstr(e.msg, "built without dygraphs"));
    }
    ck_assert_int_ne(access(out, F_OK), 0);
    snprintf(part, sizeof part, "%s.part", out);
    ck_assert_int_ne(access(part, F_OK), 0);
    /* the run folder's refresh: nothing without dygraphs, else the index's error */
    bp_err_clear(&e);
    ck_assert_int_eq(bp_report_html_refresh(tmp, &e), bp_report_html_available() ? BP_EDATA : 0);
}
END_TEST


/* bp_numtext_g against printf's %.*g: the same text, or a last digit one unit off (within an
 * ulp of a rounding tie), over fixed values
 * and 200,000 random bit patterns */
static int numtext_agrees(double v, int prec, int *exact)
{
    char a[32], b[64];
    size_t n = bp_numtext_g(a, v, prec);
    snprintf(b, sizeof b, "%.*g", prec, v);
    if (n != strlen(a))
        return 0;
    if (!strcmp(a, b)) {
        (*exact)++;
        return 1;
    }
    double x = strtod(a, NULL), y = strtod(b, NULL);
    double unit = pow(10.0, floor(log10(fabs(y))) - prec + 1);
    return fabs(x - y) <= 1.001 * unit;
}

START_TEST(numtext_is_printf_g)
{
    static const double fixed[] = { 0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1e-5, 1e-4, 0.00012345678,
                                    9.9999996, 99999995.0, 123456.75, 1234567.0, 12345678.0,
                                    1e7, 1e15, 1e16, 1e22, 1e23, 1e100, 1e-100, 1e-300,
                                    1.7976931348623157e308, 2.2250738585072014e-308, 5e-324,
                                    4.9406564584124654e-320, 0.693147180559945, 2.5, 0.125 };
    int exact = 0, total = 0;
    for (int prec = 1; prec <= 12; prec++)
        for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
            ck_assert_msg(numtext_agrees(fixed[i], prec, &exact), "%.17g at %d", fixed[i], prec);
            ck_assert_msg(numtext_agrees(-fixed[i], prec, &exact), "%.17g at %d", -fixed[i], prec);
            total += 2;
        }
    ck_assert_int_eq(exact, total);    /* no ties among these: every one exactly as printf */
    char t[32];
    ck_assert_str_eq((bp_numtext_g(t, NAN, 7), t), "nan");
    ck_assert_str_eq((bp_numtext_g(t, -INFINITY, 7), t), "-inf");
    ck_assert_str_eq((bp_numtext_g(t, 0.30000001192092896, 7), t), "0.3");
    ck_assert_str_eq((bp_numtext_g(t, 1234567.0, 3), t), "1.23e+06");
    ck_assert_str_eq((bp_numtext_g(t, 1e-300, 7), t), "1e-300");
    uint64_t s = 0x9e3779b97f4a7c15u;
    exact = 0;
    total = 0;
    for (int i = 0; i < 200000; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double v;
        memcpy(&v, &s, sizeof v);
        if (!isfinite(v))
            continue;
        int prec = 1 + (int)(s >> 60) % 12, was = exact;
        ck_assert_msg(numtext_agrees(v, prec, &exact), "%.17g at %d", v, prec);
        /* up to 9 digits (the page uses 7) a tie within an ulp is too rare to meet here */
        ck_assert_msg(prec > 9 || exact > was, "%.17g at %d", v, prec);
        total++;
    }
    ck_assert_int_ge(exact, total - total / 1000);
}
END_TEST

static Suite *report_html_suite(void)
{
    Suite *s = suite_create("report_html");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, report_html_is_ours_by_first_line);
    tcase_add_test(tc, output_to_file_leaves_nothing_on_failure);
    tcase_add_test(tc, numtext_is_printf_g);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(report_html_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
