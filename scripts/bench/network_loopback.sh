#!/usr/bin/env bash
# Round time and bytes per round of `titrate aggregator` with four
# `titrate site` processes over 127.0.0.1, against the same job in one
# process. Run from the repository root after `swift build -c release`;
# prints wall-clock seconds, the load average and the aggregator's
# per-round byte counts. Everything binds or dials 127.0.0.1 only.
set -u
B="$(cd "$(dirname "$0")/../.." && pwd)/.build/release/titrate"
W="$(mktemp -d "${TMPDIR:-/tmp}/titrate-network-bench.XXXXXX")"
chmod 700 "$W"
trap 'rm -rf "$W"' EXIT
SITES="elderly_renal haematology icu_arc obese"
T="--sites 4 --rounds ${ROUNDS:-20} --patients-per-site ${PATIENTS:-512} --checkpoint-every 0 --threads 1"
mkdir -m 700 "$W/keys" "$W/allow"
for name in server $SITES; do "$B" keys generate --output "$W/keys" --name "$name" > /dev/null; done
for name in $SITES; do cp "$W/keys/$name.pub" "$W/allow/"; done
now() { date +%s.%N; }
for repeat in 1 2; do
  echo "repeat $repeat load $(cut -d' ' -f1 /proc/loadavg)"
  start=$(now)
  "$B" train $T --quiet --output "$W/in-process.h5" > /dev/null || echo "FAILED: train"
  echo "in-process: $(echo "$(now) - $start" | bc) s"
  rm -f "$W/network.h5" "$W/network.audit.jsonl"
  start=$(now)
  "$B" aggregator $T --bind tcp://127.0.0.1:0 --server-key "$W/keys/server.key" \
    --allow "$W/allow" --output "$W/network.h5" > "$W/aggregator.out" 2> "$W/aggregator.err" &
  aggregator=$!
  until grep -q "listening on" "$W/aggregator.out"; do sleep 0.05; done
  endpoint=$(grep -o 'tcp://127.0.0.1:[0-9]*' "$W/aggregator.out")
  for name in $SITES; do
    "$B" site --site "$name" --connect "$endpoint" --key "$W/keys/$name.key" \
      --server-public "$W/keys/server.pub" --quiet > /dev/null 2>> "$W/sites.err" &
  done
  wait "$aggregator" || echo "FAILED: aggregator: $(tail -3 "$W/aggregator.err")"
  wait
  echo "network (start to checkpoint, includes site start-up): $(echo "$(now) - $start" | bc) s"
  grep "bytes sent/received" "$W/aggregator.out" | tail -1
  grep "^round 1/" "$W/aggregator.out"
  grep "^round ${ROUNDS:-20}/" "$W/aggregator.out"
  grep "^round ${ROUNDS:-20}/" <("$B" inspect "$W/in-process.h5" 2> /dev/null) || true
done
echo "end load $(cut -d' ' -f1 /proc/loadavg)"
