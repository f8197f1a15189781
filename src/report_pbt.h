/* report_pbt.h - the lineage of a population-based training run's winner (sweep.pbt, pbt.h),
 * read back from the members' trial files (/pbt, docs/FORMAT.md) for `bprun report`.
 *
 * The winner is the completed member with the lowest PBT metric (val_loss or loss) at its
 * last epoch (ties by member index). Its lineage is walked back from the last epoch: within a
 * generation the state is the current member's; at a generation's first epoch /pbt/parent
 * names the member whose state it continued, which becomes the current member for the epochs
 * before. Each step of the lineage is a generation: its epochs, the member that trained them,
 * that member's hyperparameters then and its metric at the generation's last epoch.
 *
 * The replay config: the lineage's first member's resolved config with train.phases holding the
 * hyperparameters of every later generation (from its first epoch), a plain config that gives
 * the winner's final weights and its lineage's epoch rows bit for bit (tests/pbt.sh).
 */
#ifndef BP_REPORT_PBT_H
#define BP_REPORT_PBT_H

#include <stdio.h>

#include "err.h"

typedef struct bp_pbt_step {
    int generation, first, last;   /* 1-based; epochs first..last */
    unsigned member;
    double *params;                /* n_params values (owned by the lineage) */
    double metric;                 /* at epoch last */
} bp_pbt_step;

typedef struct bp_pbt_lineage {
    unsigned winner, population;
    int interval, val;             /* val: metric val_loss (else loss) */
    size_t n_params;
    char **keys;                   /* the params' key paths */
    size_t n_steps;
    bp_pbt_step *steps;            /* generation order */
    char *replay;                  /* the replay config (YAML) */
} bp_pbt_lineage;

/* The lineage of run folder dir: 1 when it is a PBT run (*out filled), 0 when it is not (or no
 * member completed), or a negative code (BP_EDATA for a trial file whose /pbt does not read,
 * BP_ENOMEM). */
int bp_pbt_lineage_read(const char *dir, bp_pbt_lineage *out, bp_err *e);
void bp_pbt_lineage_free(bp_pbt_lineage *l);

/* Write the lineage: fmt 0 text, 1 markdown (both with the replay config), 2 csv (a table:
 * generation,first_epoch,last_epoch,member,KEY...,metric), 3 json (an object). */
void bp_pbt_lineage_print(FILE *f, const bp_pbt_lineage *l, int fmt);

#endif
