/* Name tables and small text helpers shared by every module (declared in config.h). */
#include "autoconf.h"
#include "config.h"

#include <stdio.h>
#include <string.h>

const char *const bp_loss_names[BP_LOSS_COUNT] = { "mse", "cross_entropy", "binary_cross_entropy" };
const char *const bp_init_names[BP_INIT_COUNT] = { "uniform", "xavier_uniform", "xavier_normal",
                                                   "he_uniform", "he_normal", "from" };

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    /* optimal string alignment: edits are insert, delete, substitute, swap of neighbours */
    size_t pp[65], prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            size_t d = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < d)
                d = pp[j - 2] + 1;
            cur[j] = d;
        }
        memcpy(pp, prev, (lb + 1) * sizeof *prev);
        memcpy(prev, cur, (lb + 1) * sizeof *prev);
    }
    return prev[lb];
}

const char *bp_suggest(const char *word, const char *const *candidates, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1, len = strlen(word);
    size_t limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    return best_d <= limit ? best : NULL;
}

const char *bp_mark_str(const bp_mark *m, char *buf, size_t size)
{
    if (!m || !m->src)
        snprintf(buf, size, "(default)");
    else if (m->line == 0)
        snprintf(buf, size, "%s", m->src);
    else
        snprintf(buf, size, "%s:%u:%u", m->src, m->line, m->col);
    return buf;
}
