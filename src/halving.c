#include "autoconf.h"
#include "halving.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trialread.h"

struct bp_halving_rounds {
    const bp_sweep *s;
    const char *dir;
    size_t n, R;
    int E;
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
    if (!h->play || !h->prune || !h->ids || !h->act || !h->msg) {
        bp_halving_rounds_free(h);
        return NULL;
    }
    for (size_t i = 0; i < h->n; i++)
        h->play[h->n_play++] = i;
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
    free(h);
}

static int plan(void *ud, size_t k, bp_round *r, bp_err *e)
{
    (void)e;
    bp_halving_rounds *h = ud;
    const bp_halving *hv = &h->s->halving;
    if (k > hv->n_rungs)
        return 0;
    memset(h->act, BP_HALVING_NONE, h->n);
    r->ids = h->ids;
    r->n = 0;
    r->until = k < hv->n_rungs ? hv->rungs[k] : h->E;
    for (size_t i = 0; i < h->n_play; i++) {
        h->act[h->play[i]] = BP_HALVING_TRAIN;
        r->ids[r->n++] = h->play[i];
    }
    for (size_t i = 0; i < h->n_prune; i++) {
        h->act[h->prune[i]] = BP_HALVING_PRUNE;
        r->ids[r->n++] = h->prune[i];
    }
    snprintf(h->pause, sizeof h->pause, "paused at epoch %d (rung %zu of %zu) for the halving "
             "decision", r->until, k + 1, hv->n_rungs);
    return 1;
}

/* The metric of trial id at epoch `at` (1-based): from its row when the row ends there, else
 * from its trial file (a kept trial of a resumed run that went further). */
static int value_at(const bp_halving_rounds *h, const bp_trial_summary *row, size_t id, int at,
                    double *v, bp_err *e)
{
    int val = h->s->halving.val;
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
    bp_halving_rounds *h = ud;
    const bp_halving *hv = &h->s->halving;
    h->n_prune = 0;
    if (k >= hv->n_rungs) {
        h->n_play = 0;
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
    size_t keep = (size_t)ceil((double)np / hv->eta - 1e-9);
    if (keep < 1)
        keep = 1;
    static const char *const names[] = { "loss", "val_loss" };
    const char *col = names[hv->val ? 1 : 0];
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
            snprintf(h->msg[id], sizeof h->msg[id], "pruned at epoch %d (rung %zu of %zu): point "
                     "%zu's mean %s %.6g over its repeats ranked %zu of %zu points, the best %zu "
                     "go on", at, k + 1, hv->n_rungs, pc[q].id, col, pc[q].v, q + 1, np, keep);
        else
            snprintf(h->msg[id], sizeof h->msg[id], "pruned at epoch %d (rung %zu of %zu): %s "
                     "%.6g ranked %zu of %zu, the best %zu go on", at, k + 1, hv->n_rungs, col,
                     pc[q].v, q + 1, np, keep);
    }
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
