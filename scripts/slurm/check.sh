#!/usr/bin/env bash
# Trains one small federation three ways and checks that the models are
# the same bit for bit: in one process, under `srun --mpi=pmix` and under
# `salloc ... mpirun`, both on the one-node cluster of local.sh.
#
#   scripts/slurm/check.sh [TITRATE]   # default .build/debug/titrate
#
# Starts the cluster when SLURM_CONF does not point at a running one, and
# then stops it on exit. Compares the checkpoints with h5diff (hdf5-tools),
# leaving out /metrics, whose history holds wall-clock times, and the
# attributes of the root group, which include the creation time (h5diff
# 1.10 excludes attributes by object, not by name).
set -euo pipefail

repository=$(cd "$(dirname "$0")/../.." && pwd)
titrate=$(realpath "${1:-$repository/.build/debug/titrate}")
work=$(mktemp -d)
started_here=0

cleanup() {
  if [[ $started_here -eq 1 ]]; then "$repository/scripts/slurm/local.sh" stop; fi
  rm -rf "$work"
}
trap cleanup EXIT

if ! { [[ -n ${SLURM_CONF:-} ]] && sinfo -h >/dev/null 2>&1; }; then
  started_here=1
  "$repository/scripts/slurm/local.sh" start
  eval "$("$repository/scripts/slurm/local.sh" env)"
fi

# Four sites over three ranks, a checkpoint every round so that the site
# states travel back to rank 0 mid-run.
arguments=(
  train --sites 4 --rounds 2 --checkpoint-every 1 --patients-per-site 16
  --minibatch-size 32 --update-epochs 1 --hidden-sizes 8,8 --threads 1 --quiet
)
cd "$repository"

run() {
  local name=$1
  shift
  local started=$SECONDS
  "$@" >"$work/$name.out" 2>"$work/$name.err" || {
    echo "check: $name failed:" >&2
    cat "$work/$name.err" >&2
    exit 1
  }
  echo "check: $name finished in $((SECONDS - started)) s"
}

run in-process "$titrate" "${arguments[@]}" --output "$work/in-process.h5"
# More tasks than the node's 2 CPUs, so both launchers need --overcommit.
run srun srun -n 3 --overcommit --mpi=pmix \
  "$titrate" "${arguments[@]}" --transport mpi --output "$work/srun.h5"
run salloc salloc -n 3 --overcommit mpirun --allow-run-as-root \
  "$titrate" "${arguments[@]}" --transport mpi --output "$work/salloc.h5"

# A titrate started by srun without --transport mpi must refuse to run,
# because every task would train the whole federation.
if srun -n 2 --overcommit --mpi=pmix "$titrate" "${arguments[@]}" \
  --output "$work/refused.h5" 2>"$work/refused.err"; then
  echo "check: srun without --transport mpi ran, expected a usage error" >&2
  exit 1
fi
if grep -q "one of 2 processes started by an MPI launcher" "$work/refused.err"; then
  echo "check: srun without --transport mpi was refused"
else
  echo "check: srun without --transport mpi failed for another reason:" >&2
  cat "$work/refused.err" >&2
  exit 1
fi

status=0
for name in srun salloc; do
  if h5diff --exclude-path /metrics --exclude-attribute / "$work/in-process.h5" "$work/$name.h5" >"$work/$name.diff"; then
    echo "check: $name model equals the in-process model bit for bit"
  else
    echo "check: $name model differs from the in-process model:" >&2
    head -n 20 "$work/$name.diff" >&2
    status=1
  fi
done
exit $status
