/* The best-so-far curve of a search run, in every report format. */
#include "autoconf.h"
#include "report_search.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int bp_search_info_parse(const char *text, bp_search_info *out)
{
    memset(out, 0, sizeof *out);
    if (!text || sscanf(text, "method=%15s metric=%31s trials=%zu batch=%zu startup=%zu",
                        out->method, out->metric, &out->trials, &out->batch, &out->startup) != 5 ||
        !out->batch)
        return -1;
    return 0;
}

static int by_trial(const void *pa, const void *pb)
{
    const bp_search_trial *a = pa, *b = pb;
    return a->trial < b->trial ? -1 : a->trial > b->trial;
}

static void num(FILE *f, double v, int json)
{
    if (isnan(v))
        fputs(json ? "null" : "-", f);
    else
        fprintf(f, json ? "%.17g" : "%.6g", v);
}

int bp_report_search(FILE *f, const bp_search_info *in, const bp_search_trial *t, size_t n,
                     int higher, bp_search_style style)
{
    bp_search_trial *s = malloc((n ? n : 1) * sizeof *s);
    if (!s)
        return -1;
    if (n)
        memcpy(s, t, n * sizeof *s);
    qsort(s, n, sizeof *s, by_trial);
    int md = style == BP_SEARCH_MARKDOWN, json = style == BP_SEARCH_JSON;
    if (style == BP_SEARCH_CSV)
        fputs("trial,batch,value,best_so_far,best_trial,epochs_spent\n", f);
    else if (json)
        fprintf(f, "{\"method\": \"%s\", \"metric\": \"%s\", \"higher_is_better\": %s, "
                "\"trials\": %zu, \"batch\": %zu, \"startup\": %zu, \"curve\": [", in->method,
                in->metric, higher ? "true" : "false", in->trials, in->batch, in->startup);
    else
        fprintf(f, "\n%s (sweep.search, %s): best %s so far (%s is better), batches of "
                "%zu, the first %zu trials from the prior\n\n%s", md ? "**Search**" : "search",
                in->method, in->metric, higher ? "higher" : "lower", in->batch, in->startup, md ?
                "| trial | batch | value | best so far | best trial | epochs spent |\n"
                "|---|---|---|---|---|---|\n" : "trial  batch  value         best so far   "
                "best trial  epochs spent\n");
    double best = NAN;
    long spent = 0, best_id = -1;
    for (size_t i = 0; i < n; i++) {
        double v = s[i].value;
        if (!isnan(v) && (isnan(best) || (higher ? v > best : v < best))) {
            best = v;
            best_id = s[i].trial;
        }
        spent += s[i].epochs > 0 ? s[i].epochs : 0;
        size_t b = s[i].trial / in->batch;
        if (style == BP_SEARCH_CSV) {
            fprintf(f, "%u,%zu,", s[i].trial, b);
            if (!isnan(v))
                fprintf(f, "%.17g", v);
            fputc(',', f);
            if (!isnan(best))
                fprintf(f, "%.17g", best);
            fputc(',', f);
            if (best_id >= 0)
                fprintf(f, "%ld", best_id);
            fprintf(f, ",%ld\n", spent);
        } else if (json) {
            fprintf(f, "%s{\"trial\": %u, \"batch\": %zu, \"value\": ", i ? ", " : "", s[i].trial,
                    b);
            num(f, v, 1);
            fputs(", \"best\": ", f);
            num(f, best, 1);
            fputs(", \"best_trial\": ", f);
            if (best_id >= 0)
                fprintf(f, "%ld", best_id);
            else
                fputs("null", f);
            fprintf(f, ", \"epochs_spent\": %ld}", spent);
        } else {
            char vb[32] = "-", bb[32] = "-", ib[24] = "-";
            if (!isnan(v))
                snprintf(vb, sizeof vb, "%.6g", v);
            if (!isnan(best))
                snprintf(bb, sizeof bb, "%.6g", best);
            if (best_id >= 0)
                snprintf(ib, sizeof ib, "%04ld", best_id);
            if (md)
                fprintf(f, "| %04u | %zu | %s | %s | %s | %ld |\n", s[i].trial, b, vb, bb, ib,
                        spent);
            else
                fprintf(f, "%04u   %5zu  %-12s  %-12s  %-10s  %12ld\n", s[i].trial, b, vb, bb,
                        ib, spent);
        }
    }
    if (json)
        fputs("]}", f);
    free(s);
    return 0;
}
