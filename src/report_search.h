/* report_search.h - `bprun report` of a sweep.search run: the best value of the search's
 * metric found so far, against trials (in id order: the order the search decided them) and
 * against the epochs spent (the sum of the epochs the trials so far trained), in text,
 * markdown, csv (--table search) and json (docs/REPORT.md, docs/SEARCH.md).
 */
#ifndef BP_REPORT_SEARCH_H
#define BP_REPORT_SEARCH_H

#include <stddef.h>
#include <stdio.h>

/* What the index's `search` attribute says (search.h bp_search_describe). */
typedef struct bp_search_info {
    char method[16];
    char metric[32];
    size_t trials, batch, startup;
} bp_search_info;

/* Parse the attribute; 0, or -1 when it is not one. */
int bp_search_info_parse(const char *text, bp_search_info *out);

/* One trial: its id, its value of the metric (NaN: none: not finished, failed, diverged), and
 * the epochs it trained. */
typedef struct bp_search_trial {
    unsigned trial;
    double value;
    int epochs;
} bp_search_trial;

typedef enum bp_search_style { BP_SEARCH_TEXT, BP_SEARCH_MARKDOWN, BP_SEARCH_CSV,
                               BP_SEARCH_JSON } bp_search_style;

/* Print the curve of n trials (sorted here by id; t is not changed). higher: the metric is
 * better when higher. json: the value of a "search" member ({...}), no newline after it. */
int bp_report_search(FILE *f, const bp_search_info *in, const bp_search_trial *t, size_t n,
                     int higher, bp_search_style style);

#endif
