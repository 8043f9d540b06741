#!/usr/bin/env bash
# Scaling of a fixed training job and a large evaluation over MPI ranks.
# Run from the repository root after `swift build -c release`; prints the
# wall-clock seconds of each command, twice, with the load average.
set -u
B="$(cd "$(dirname "$0")/../.." && pwd)/.build/release/titrate"
M="mpirun --allow-run-as-root --oversubscribe"
T="--sites 4 --rounds 20 --patients-per-site 512 --checkpoint-every 0 --quiet --overwrite"
E="Checkpoints/vancomycin-4site.h5 --patients 20000 --batch-size 5000"
t() { local s=$(date +%s.%N); "$@" > /dev/null 2>&1 || echo "FAILED: $*"; echo "$(echo "$(date +%s.%N) - $s" | bc)"; }
for repeat in 1 2; do
  echo "repeat $repeat load $(cut -d' ' -f1 /proc/loadavg)"
  echo "train in-process threads 1: $(t $B train $T --threads 1 --output "${TMPDIR:-/tmp}"/titrate-mpi-bench-b0.h5)"
  echo "train in-process threads 2: $(t $B train $T --threads 2 --output "${TMPDIR:-/tmp}"/titrate-mpi-bench-b0.h5)"
  for n in 1 2 4; do
    echo "train mpi $n ranks threads 1: $(t $M -n $n $B train $T --threads 1 --output "${TMPDIR:-/tmp}"/titrate-mpi-bench-b$n.h5 --transport mpi)"
  done
  echo "evaluate in-process threads 1: $(t $B evaluate $E --threads 1)"
  echo "evaluate in-process threads 2: $(t $B evaluate $E --threads 2)"
  for n in 1 2 4; do
    echo "evaluate mpi $n ranks threads 1: $(t $M -n $n $B evaluate $E --threads 1 --transport mpi)"
  done
done
echo "end load $(cut -d' ' -f1 /proc/loadavg)"
