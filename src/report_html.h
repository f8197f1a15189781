/* report_html.h - `bprun report --format html`: one self-contained HTML file per run (or runs)
 * that a browser opens without network access. It embeds the very JSON document of
 * `--format json` (points, comparisons, ranked trials: report.c), the text report's best
 * setting, and the per-epoch columns of every trial file (also the .part files of trials still
 * running), decimated on one epoch grid so that 10,000 trials stay responsive, with each
 * trial's verdict, /diagnostics attributes and loss along the path; the page (report_page.js,
 * dygraphs inlined, its license kept) draws the views of docs/REPORT.md. Also: any report
 * written to a file atomically (-o FILE), and the run folder's report.html that the scheduler
 * refreshes while a run goes on.
 */
#ifndef BP_REPORT_HTML_H
#define BP_REPORT_HTML_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"
#include "report.h"

/* Whether this bprun was built with dygraphs (configure found libjs-dygraphs): without it
 * the html format is refused (BP_EUSAGE, saying what to install). */
int bp_report_html_available(void);

/* The HTML report of nd >= 1 run folders (o->format is ignored: html) to f. */
int bp_report_html(const char *const *dirs, size_t nd, const bp_report_opts *o, FILE *f,
                   bp_err *e);

/* The report in o->format (html included) to f when path is NULL, else to the file path,
 * written as path.part and renamed when complete (BP_EIO naming the file when it cannot be
 * written; a failed write leaves no .part). */
int bp_report_output(const char *const *dirs, size_t nd, const bp_report_opts *o,
                     const char *path, FILE *f, bp_err *e);

/* The run folder's report.html (BP_RUN_REPORT_HTML, runfolder.h), rewritten from its index
 * with the default options, by the process running the trials: the curves of finished trials
 * only (a .part file is never opened beside its writer). Nothing when bprun was built without
 * dygraphs. */
int bp_report_html_refresh(const char *dir, bp_err *e);

#endif
