#!/usr/bin/env bash
# The clinical effect of update compression. For each SCHEMES entry, it
# trains the main job (the README's `make run` options) for ROUNDS rounds
# (default 300) in one process with that --update-compression. Then it
# evaluates the checkpoint on PATIENTS held-out patients per site (default
# 5000, no baselines). It prints the bytes per delta, the training time,
# the load average and the evaluation tables. Run from the repository
# root after `swift build -c release`; files go to OUT (default
# out/compression), and SEED sets the training seed (default 1).
set -u
cd "$(dirname "$0")/../.."
B=.build/release/titrate
OUT="${OUT:-out/compression}"
mkdir -p "$OUT"
now() { date +%s.%N; }
seconds() { awk -v start="$1" -v end="$(now)" 'BEGIN { printf "%.1f", end - start }'; }
for scheme in ${SCHEMES:-none float16 int8 topk:0.05}; do
  name="${scheme//:/-}"
  echo "== $scheme, seed ${SEED:-1}, load $(cut -d' ' -f1 /proc/loadavg)"
  start=$(now)
  "$B" train --environment vancomycin --sites 4 --rounds "${ROUNDS:-300}" \
    --cost-limit 0.05 --multiplier-learning-rate 0.2 --proportional-gain 20 --monotone-policy \
    --seed "${SEED:-1}" --update-compression "$scheme" --checkpoint-every 0 --overwrite \
    --output "$OUT/$name.h5" > "$OUT/$name.train.out" || echo "FAILED: train $scheme"
  echo "training: $(seconds "$start") s, load $(cut -d' ' -f1 /proc/loadavg)"
  grep "update compression" "$OUT/$name.train.out"
  tail -2 "$OUT/$name.train.out"
  "$B" evaluate "$OUT/$name.h5" --patients "${PATIENTS:-5000}" --baselines none \
    > "$OUT/$name.evaluate.out" || echo "FAILED: evaluate $scheme"
  cat "$OUT/$name.evaluate.out"
done
echo "end load $(cut -d' ' -f1 /proc/loadavg)"
