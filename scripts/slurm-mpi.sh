#!/bin/sh
# slurm-mpi.sh: one sweep over MPI ranks (bprun built with ./configure --with-mpi;
# docs/CLUSTER.md).
#
#   sbatch --nodes=4 --ntasks-per-node=2 --cpus-per-task=8 scripts/slurm-mpi.sh CONFIG RUN
#
# Each rank asks rank 0 for the next trial when it finished one and trains it with its own
# threads; rank 0 trains trials too and writes RUN/index.h5. RUN must be on a file system
# every node sees. If the job dies or hits its time limit, submit it again: the run resumes
# (finished trials kept, interrupted ones continued).
#SBATCH --job-name=bprun-mpi
#SBATCH --time=02:00:00
#SBATCH --output=bprun-mpi-%j.out
set -eu
config=${1:?usage: sbatch slurm-mpi.sh CONFIG RUN_DIR}
run=${2:?usage: sbatch slurm-mpi.sh CONFIG RUN_DIR}
# --bind-to none: let each rank's threads use all the cores Slurm gave the task
exec mpirun --bind-to none bprun run "$config" -o "$run" --threads "${SLURM_CPUS_PER_TASK:-1}"
