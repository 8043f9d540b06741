#!/usr/bin/env bash
# Robustness grid: final clinical metric of each aggregation strategy with
# 0, 1 and 2 hostile sites out of 7, for several attack kinds.
#
# Each cell trains 7 vancomycin sites (the four populations cycled) with a
# reduced budget, then evaluates the final policy on held-out patients and
# appends one row to the results table. Run after `swift build -c release`:
#   bash scripts/bench/robustness.sh [RESULTS_DIR]
# Environment overrides: ROUNDS (150), PATIENTS (128), EVAL_PATIENTS (1000),
# STRATEGIES and ATTACKS (space-separated lists), SEED (1), BINARY (the
# titrate executable; .build/release/titrate), FEDPG_SIGMA (0.06).
set -euo pipefail
cd "$(dirname "$0")/../.."
binary=${BINARY:-.build/release/titrate}
results=${1:-/tmp/titrate-robustness}
mkdir -p "$results"
rounds=${ROUNDS:-150}
patients=${PATIENTS:-128}
evaluation_patients=${EVAL_PATIENTS:-1000}
seed=${SEED:-1}
strategies=${STRATEGIES:-"fedavg median trimmed-mean krum multi-krum bulyan"}
attacks=${ATTACKS:-"sign-flip:4 gaussian:10 negated-reward"}
# Hostile sites are the second copies of two populations, so every
# population keeps at least one honest site.
hostile_order=(icu_arc_2 haematology_2)
table="$results/robustness.tsv"
printf 'strategy\thostile\tattack\tday3_attainment\ttrough_above_20\tseconds\n' > "$table"

strategy_options() {
  case "$1" in
    trimmed-mean) echo "--trim-fraction 0.3" ;;
    krum | multi-krum) echo "--byzantine-f 2" ;;
    bulyan) echo "--byzantine-f 1" ;;
    fedpg-br) echo "--fedpg-sigma ${FEDPG_SIGMA:-0.06}" ;;
    *) echo "" ;;
  esac
}

run_cell() {
  local strategy=$1 hostile_count=$2 attack=$3
  local name="${strategy}_${hostile_count}_${attack//:/-}"
  local hostile=()
  if [[ $hostile_count -gt 0 ]]; then
    local items=()
    for site in "${hostile_order[@]:0:$hostile_count}"; do items+=("$site=$attack"); done
    hostile=(--hostile-sites "$(IFS=,; echo "${items[*]}")")
  fi
  local started=$SECONDS
  # shellcheck disable=SC2046
  "$binary" train --sites 7 --patients-per-site "$patients" --rounds "$rounds" \
    --seed "$seed" --threads 1 --checkpoint-every 0 --quiet --overwrite \
    --aggregation "$strategy" $(strategy_options "$strategy") "${hostile[@]}" \
    --output "$results/$name.h5" > "$results/$name.train.log" 2>&1 || {
    printf '%s\t%s\t%s\tfailed\tfailed\t%s\n' "$strategy" "$hostile_count" "$attack" \
      $((SECONDS - started)) >> "$table"
    return
  }
  "$binary" evaluate "$results/$name.h5" --patients "$evaluation_patients" --baselines none \
    --threads 1 --json > "$results/$name.json"
  python3 - "$results/$name.json" "$strategy" "$hostile_count" "$attack" \
    $((SECONDS - started)) >> "$table" <<'PY'
import json
import sys

path, strategy, hostile, attack, seconds = sys.argv[1:]
report = json.load(open(path))
in_target = troughs = total = 0
for cohort in report["cohorts"]:
    for summary in cohort["summaries"]:
        if summary["policy"] != "learned":
            continue
        in_target += summary["targetAttainment"]["events"]
        troughs += summary["anyTroughAboveLimit"]["events"]
        total += summary["targetAttainment"]["total"]
print(f"{strategy}\t{hostile}\t{attack}\t{in_target / total:.4f}\t{troughs / total:.4f}\t{seconds}")
PY
}

for strategy in $strategies; do
  run_cell "$strategy" 0 none
  for attack in $attacks; do
    for hostile_count in 1 2; do
      run_cell "$strategy" "$hostile_count" "$attack"
    done
  done
done
column -t -s $'\t' "$table"
