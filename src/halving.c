#include "autoconf.h"
#include "halving.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyperband.h"
#include "trialread.h"

/* a successive halving over trials first .. first + n - 1: stage i trains to rungs[i]; after
 * stage i < n_stages - 1 the best keep[i] points go on (0: ceil(points / eta)) */
typedef struct bracket {
    size_t first, n;
    size_t n_stages;
    int *rungs;
    size_t *keep;
    int s;                    /* Hyperband's s, or -1 (sweep.halving) */
} bracket;

struct bp_halving_rounds {
    const bp_sweep *s;
    const char *dir;
    size_t n, R;
    int E, val;
    double eta;
    const char *what;         /* "halving" or "hyperband" */
    bracket *br;
    size_t n_br, bi, stage;   /* the brackets; the current one and its stage */
    int *rung_buf;
    size_t *keep_buf;
    size_t *play, n_play;     /* trials in play: they train in the next round */
    size_t *prune, n_prune;   /* trials to end as pruned in the next round */
    size_t *ids;              /* the round */
    unsigned char *act;       /* bp_halving_act per trial */
    char (*msg)[BP_ERR_MSG_MAX];
    char pause[BP_ERR_MSG_MAX];
};

typedef struct cand {
    size_t id;
    double v;
} cand;

static int by_value(const void *pa, const void *pb)
{
    const cand *a = pa, *b = pb;
    int na = isnan(a->v), nb = isnan(b->v);
    if (na != nb)
        return na - nb;
    if (!na && a->v != b->v)
        return a->v < b->v ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/* the trials of bracket bi in play */
static void start_bracket(bp_halving_rounds *h)
{
    h->stage = 0;
    h->n_play = h->n_prune = 0;
    if (h->bi >= h->n_br)
        return;
    const bracket *b = &h->br[h->bi];
    for (size_t i = 0; i < b->n; i++)
        h->play[h->n_play++] = b->first + i;
}

bp_halving_rounds *bp_halving_rounds_new(const bp_sweep *s, const char *dir, bp_err *e)
{
    bp_halving_rounds *h = bp_xcalloc(1, sizeof *h, e);
    if (!h)
        return NULL;
    h->s = s;
    h->dir = dir;
    h->n = s->n_trials;
    h->R = s->repeats ? s->repeats : 1;
    h->E = s->trials[0].cfg->train.epochs;
    h->play = bp_xcalloc(h->n, sizeof *h->play, e);
    h->prune = bp_xcalloc(h->n, sizeof *h->prune, e);
    h->ids = bp_xcalloc(h->n, sizeof *h->ids, e);
    h->act = bp_xcalloc(h->n, 1, e);
    h->msg = bp_xcalloc(h->n, sizeof *h->msg, e);
    h->br = bp_xcalloc(BP_HYPERBAND_MAX_BRACKETS, sizeof *h->br, e);
    size_t max_stages = s->hyperband.active ? BP_HYPERBAND_MAX_BRACKETS : s->halving.n_rungs + 1;
    h->rung_buf = bp_xcalloc(BP_HYPERBAND_MAX_BRACKETS * max_stages, sizeof *h->rung_buf, e);
    h->keep_buf = bp_xcalloc(BP_HYPERBAND_MAX_BRACKETS * max_stages, sizeof *h->keep_buf, e);
    if (!h->play || !h->prune || !h->ids || !h->act || !h->msg || !h->br || !h->rung_buf ||
        !h->keep_buf) {
        bp_halving_rounds_free(h);
        return NULL;
    }
    if (s->hyperband.active) {
        bp_hyperband_bracket hb[BP_HYPERBAND_MAX_BRACKETS];
        size_t nb = bp_hyperband_brackets(s->hyperband.max_epochs, s->hyperband.eta, hb), first = 0;
        h->eta = s->hyperband.eta;
        h->val = s->hyperband.val;
        h->what = "hyperband";
        for (size_t b = 0; b < nb && first < h->n; b++) {
            bracket *br = &h->br[h->n_br++];
            br->first = first;
            br->n = hb[b].n * h->R;
            if (br->n > h->n - first)
                br->n = h->n - first;   /* the sweep is checked to have exactly enough */
            br->n_stages = hb[b].n_stages;
            br->rungs = h->rung_buf + b * BP_HYPERBAND_MAX_BRACKETS;
            br->keep = h->keep_buf + b * BP_HYPERBAND_MAX_BRACKETS;
            for (size_t i = 0; i < br->n_stages; i++) {
                br->rungs[i] = hb[b].rungs[i];
                br->keep[i] = hb[b].keep[i];
            }
            br->s = hb[b].s;
            first += br->n;
        }
    } else {
        const bp_halving *hv = &s->halving;
        h->eta = hv->eta;
        h->val = hv->val;
        h->what = "halving";
        bracket *br = &h->br[h->n_br++];
        br->n = h->n;
        br->n_stages = hv->n_rungs + 1;
        br->rungs = h->rung_buf;
        br->keep = h->keep_buf;
        for (size_t i = 0; i < hv->n_rungs; i++)
            br->rungs[i] = hv->rungs[i];
        br->rungs[hv->n_rungs] = h->E;
        br->s = -1;
    }
    start_bracket(h);
    return h;
}

void bp_halving_rounds_free(bp_halving_rounds *h)
{
    if (!h)
        return;
    free(h->play);
    free(h->prune);
    free(h->ids);
    free(h->act);
    free(h->msg);
    free(h->br);
    free(h->rung_buf);
    free(h->keep_buf);
    free(h);
}

/* "(rung 1 of 2)", or "(bracket s=2, rung 1 of 2)" */
static void where(const bp_halving_rounds *h, char *buf, size_t n)
{
    const bracket *b = &h->br[h->bi];
    if (b->s < 0)
        snprintf(buf, n, "(rung %zu of %zu)", h->stage + 1, b->n_stages - 1);
    else
        snprintf(buf, n, "(bracket s=%d, rung %zu of %zu)", b->s, h->stage + 1, b->n_stages - 1);
}

static int plan(void *ud, size_t k, bp_round *r, bp_err *e)
{
    (void)e;
    (void)k;
    bp_halving_rounds *h = ud;
    if (h->bi >= h->n_br)
        return 0;
    const bracket *b = &h->br[h->bi];
    memset(h->act, BP_HALVING_NONE, h->n);
    r->ids = h->ids;
    r->n = 0;
    r->until = b->rungs[h->stage];
    for (size_t i = 0; i < h->n_play; i++) {
        h->act[h->play[i]] = BP_HALVING_TRAIN;
        r->ids[r->n++] = h->play[i];
    }
    for (size_t i = 0; i < h->n_prune; i++) {
        h->act[h->prune[i]] = BP_HALVING_PRUNE;
        r->ids[r->n++] = h->prune[i];
    }
    char w[96];
    where(h, w, sizeof w);
    snprintf(h->pause, sizeof h->pause, "paused at epoch %d %s for the %s decision", r->until, w,
             h->what);
    return 1;
}

/* The metric of trial id at epoch `at` (1-based): from its row when the row ends there, else
 * from its trial file (a kept trial of a resumed run that went further). */
static int value_at(const bp_halving_rounds *h, const bp_trial_summary *row, size_t id, int at,
                    double *v, bp_err *e)
{
    int val = h->val;
    if (row->epochs == at) {
        *v = val ? row->final_val_loss : row->final_loss;
        return 0;
    }
    static const char *const cols[] = { "loss", "val_loss" };
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/trials/%04zu.h5", h->dir, id) >= sizeof path)
        return bp_err_set(e, BP_EUSAGE, "%s: path too long", h->dir);
    bp_trial_record *rec = bp_trial_record_read(path, cols, 2, e);
    if (!rec)
        return e->code ? e->code : BP_EIO;
    *v = rec->n_rows >= (size_t)at ? rec->rows[(size_t)(at - 1) * 2 + (size_t)val] : NAN;
    bp_trial_record_free(rec);
    return 0;
}

static int decide(void *ud, size_t k, const bp_round *r, const bp_trial_summary *rows, bp_err *e)
{
    (void)k;
    bp_halving_rounds *h = ud;
    const bracket *b = &h->br[h->bi];
    h->n_prune = 0;
    if (h->stage + 1 >= b->n_stages) {   /* the bracket is over: the next one */
        h->bi++;
        start_bracket(h);
        return 0;
    }
    int at = r->until, rc = 0;
    cand *cd = bp_xcalloc(h->n_play ? h->n_play : 1, sizeof *cd, e);
    cand *pc = bp_xcalloc(h->n_play ? h->n_play : 1, sizeof *pc, e);
    size_t *cnt = bp_xcalloc(h->n_play ? h->n_play : 1, sizeof *cnt, e);
    if (!cd || !pc || !cnt) {
        rc = BP_ENOMEM;
        goto out;
    }
    /* the trials in play that reached the rung without stopping */
    size_t nc = 0;
    for (size_t i = 0; i < h->n_play; i++) {
        size_t id = h->play[i];
        const bp_trial_summary *t = &rows[id];
        int ok = t->status && (t->epochs > at ||
                               (t->epochs == at && (!strcmp(t->status, "interrupted") ||
                                                    !strcmp(t->status, "pruned"))));
        if (!ok)
            continue;
        cd[nc].id = id;
        if ((rc = value_at(h, t, id, at, &cd[nc].v, e)))
            goto out;
        nc++;
    }
    /* points, not trials: a point's value is the mean over its repeats in play (those with a
     * finite value; NaN when none), and all its repeats go on or stop together */
    size_t np = 0;
    for (size_t i = 0; i < nc; i++) {
        size_t pid = cd[i].id / h->R, q = 0;
        while (q < np && pc[q].id != pid)
            q++;
        if (q == np) {
            pc[np++] = (cand){ pid, NAN };
            cnt[q] = 0;
        }
        if (isfinite(cd[i].v)) {
            cnt[q]++;
            pc[q].v = cnt[q] == 1 ? cd[i].v : pc[q].v + (cd[i].v - pc[q].v) / (double)cnt[q];
        }
    }
    qsort(pc, np, sizeof *pc, by_value);
    size_t keep = b->keep[h->stage] ? b->keep[h->stage]
                                     : (size_t)ceil((double)np / h->eta - 1e-9);
    if (keep < 1)
        keep = 1;
    static const char *const names[] = { "loss", "val_loss" };
    const char *col = names[h->val ? 1 : 0];
    char w[96];
    where(h, w, sizeof w);
    h->n_play = 0;
    for (size_t i = 0; i < nc; i++) {
        size_t id = cd[i].id, q = 0;
        while (pc[q].id != id / h->R)
            q++;
        if (q < keep) {
            h->play[h->n_play++] = id;
            continue;
        }
        h->prune[h->n_prune++] = id;
        if (h->R > 1)
            snprintf(h->msg[id], sizeof h->msg[id], "pruned at epoch %d %s: point %zu's mean %s "
                     "%.6g over its repeats ranked %zu of %zu points, the best %zu go on", at, w,
                     pc[q].id, col, pc[q].v, q + 1, np, keep);
        else
            snprintf(h->msg[id], sizeof h->msg[id], "pruned at epoch %d %s: %s %.6g ranked %zu "
                     "of %zu, the best %zu go on", at, w, col, pc[q].v, q + 1, np, keep);
    }
    h->stage++;
out:
    free(cd);
    free(pc);
    free(cnt);
    return rc;
}

bp_rounds_ops bp_halving_rounds_ops(bp_halving_rounds *h)
{
    return (bp_rounds_ops){ .ud = h, .plan = plan, .decide = decide };
}

bp_halving_act bp_halving_action(const bp_halving_rounds *h, size_t id, const char **message)
{
    bp_halving_act a = id < h->n ? (bp_halving_act)h->act[id] : BP_HALVING_NONE;
    *message = a == BP_HALVING_PRUNE ? h->msg[id] : h->pause;
    return a;
}
