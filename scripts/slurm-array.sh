#!/bin/sh
# slurm-array.sh: one sweep as a Slurm job array, without MPI (docs/CLUSTER.md).
#
#   sbatch --array=1-8 scripts/slurm-array.sh configs/fashion-lr-optimizer.yaml runs/fashion
#
# Task I of N runs `bprun run CONFIG -o RUN --shard I/N`: the trials whose id mod N is I-1.
# All tasks write into the one RUN folder (on a file system every node sees); each trial file
# has one writer, and each task rebuilds RUN/index.h5 from the trial files when it ends.
# A task that dies or times out loses only its running trial: resubmit the same array (or
# just that task: sbatch --array=3 ...) and the finished trials are kept, the interrupted ones
# continued. `bprun merge RUN` rebuilds the index at any time.
#SBATCH --job-name=bprun-sweep
#SBATCH --cpus-per-task=4
#SBATCH --time=02:00:00
#SBATCH --output=bprun-%A_%a.out
set -eu
config=${1:?usage: sbatch --array=1-N slurm-array.sh CONFIG RUN_DIR}
run=${2:?usage: sbatch --array=1-N slurm-array.sh CONFIG RUN_DIR}
i=${SLURM_ARRAY_TASK_ID:?not a Slurm array task}
# the array's size: its last id when it starts at 1 (--array=1-N)
n=${SLURM_ARRAY_TASK_MAX:?not a Slurm array task}
[ "${SLURM_ARRAY_TASK_MIN:-1}" = 1 ] || { echo "slurm-array.sh: use --array=1-N" >&2; exit 2; }
exec bprun run "$config" -o "$run" --shard "$i/$n" --threads "${SLURM_CPUS_PER_TASK:-1}" --quiet
