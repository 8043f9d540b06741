#!/usr/bin/env bash
# Bytes that rank 0 receives per round and seconds per round, with the
# site updates gathered (--mpi-updates gather) or summed on their ranks
# and added with MPI_Reduce (--mpi-updates reduce).
#
# Run from the repository root after `swift build -c release`. Bytes come
# from Open MPI 4.1's monitoring components (--mca pml_monitoring_enable 1),
# which print each rank's totals at MPI_Finalize. Only rank 0's report is
# visible, because titrate sends the standard output of the other ranks to
# /dev/null, so the script reads rank 0's A2O line for MPI_COMM_WORLD: the
# data of the all-to-one collectives (MPI_Gather, MPI_Gatherv, MPI_Reduce)
# that rank 0 took part in, which for their root is the data it receives.
# Open MPI counts a collective by its arguments (count times type size per
# other rank), not by the messages its algorithm sends, so a reduction tree
# that forwards partial sums is counted as one vector per other rank.
# A job of 2 rounds and one of 6 rounds differ by 4 rounds, so set-up, the
# run check and the final collection of site states cancel out. Seconds
# per round are the mean `time/seconds` of rounds 3-6 in the --metrics CSV
# of the 6-round job.
set -euo pipefail
titrate="$(cd "$(dirname "$0")/../.." && pwd)/.build/release/titrate"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
training=(--patients-per-site 64 --threads 1 --checkpoint-every 0 --quiet --overwrite)

# Prints the all-to-one collective bytes of rank 0 on MPI_COMM_WORLD.
received_by_rank0() {
  awk -F'\t' '$1 == "D" { world = ($2 == "MPI_COMM_WORLD") }
    world && $1 == "A2O" { split($3, b, " "); print b[1] }' "$1"
}

echo "titrate $(git rev-parse --short HEAD), load $(cut -d' ' -f1 /proc/loadavg)"
echo "sites ranks mode bytes_per_round seconds_per_round"
for layout in "4 4" "16 4" "16 16"; do
  read -r sites ranks <<<"$layout"
  for mode in gather reduce; do
    for rounds in 2 6; do
      mpirun --allow-run-as-root --oversubscribe -n "$ranks" \
        --mca pml_monitoring_enable 1 --mca pml_monitoring_enable_output 1 \
        "$titrate" train --sites "$sites" --rounds "$rounds" "${training[@]}" \
        --transport mpi --mpi-updates "$mode" --output "$work/model.h5" \
        --metrics "$work/metrics-$rounds.csv" >"$work/monitor-$rounds.txt" 2>&1
      rm -f "$work/model.h5"
    done
    bytes=$(($(received_by_rank0 "$work/monitor-6.txt") - $(received_by_rank0 "$work/monitor-2.txt")))
    seconds=$(awk -F, 'NR > 3 { sum += $6; n += 1 } END { printf "%.3f", sum / n }' \
      "$work/metrics-6.csv")
    echo "$sites $ranks $mode $((bytes / 4)) $seconds"
    rm -f "$work"/metrics-*.csv
  done
done
echo "end load $(cut -d' ' -f1 /proc/loadavg)"
