#!/bin/sh
# slurm-array.sh: one sweep as a Slurm job array, without MPI (docs/CLUSTER.md).
#
#   sbatch --array=1-8 scripts/slurm-array.sh configs/fashion-lr-optimizer.yaml runs/fashion 8
#
# N (the last argument) is the number of shares, given explicitly so that one task can be
# resubmitted alone: sbatch --array=3 scripts/slurm-array.sh CONFIG RUN 8. Task I of N runs `bprun run CONFIG -o RUN --shard I/N`: the trials whose id mod N is I-1.
# All tasks write into the one RUN folder (on a file system every node sees); each trial file
# has one writer, and each task rebuilds RUN/index.h5 from the trial files when it ends.
# A task that dies or times out loses only its running trial: resubmit the same array (or
# just that task, as above) and the finished trials are kept, the interrupted ones continued. `bprun merge RUN` rebuilds the index at any time.
#SBATCH --job-name=bprun-sweep
#SBATCH --cpus-per-task=4
#SBATCH --time=02:00:00
#SBATCH --output=bprun-%A_%a.out
set -eu
usage="usage: sbatch --array=1-N slurm-array.sh CONFIG RUN_DIR N"
config=${1:?$usage}
run=${2:?$usage}
n=${3:?$usage}
i=${SLURM_ARRAY_TASK_ID:?not a Slurm array task ($usage)}
exec bprun run "$config" -o "$run" --shard "$i/$n" --threads "${SLURM_CPUS_PER_TASK:-1}" --quiet
