#!/usr/bin/env bash
# Round time and bytes per round of `titrate aggregator` with four
# `titrate site` processes over 127.0.0.1, against the same job in one
# process. Run from the repository root after `swift build -c release`;
# prints wall-clock seconds, the load average and the aggregator's
# per-round byte counts. Everything binds or dials 127.0.0.1 only.
# ROUNDS, PATIENTS and COMPRESSION (the sites' --update-compression:
# none, float16, int8[:BLOCK] or topk:FRACTION) change the job. SECURE=1
# adds --secure-aggregation (with per-site normalisation, which it
# requires), run by the site processes. BUILD=debug uses the debug build
# (byte counts do not depend on it, round times do).
set -u
B="$(cd "$(dirname "$0")/../.." && pwd)/.build/${BUILD:-release}/titrate"
W="$(mktemp -d "${TMPDIR:-/tmp}/titrate-network-bench.XXXXXX")"
chmod 700 "$W"
trap '[ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
SITES="elderly_renal haematology icu_arc obese"
T="--sites 4 --rounds ${ROUNDS:-20} --patients-per-site ${PATIENTS:-512} --checkpoint-every 0"
[ -n "${SECURE:-}" ] && T="$T --secure-aggregation --normalization per-site"
mkdir -m 700 "$W/keys" "$W/allow"
for name in server $SITES; do "$B" keys generate --output "$W/keys" --name "$name" > /dev/null; done
for name in $SITES; do cp "$W/keys/$name.pub" "$W/allow/"; done
now() { date +%s.%N; }
for repeat in 1 2; do
  echo "repeat $repeat load $(cut -d' ' -f1 /proc/loadavg)"
  for threads in 1 2; do
    start=$(now)
    "$B" train $T --threads $threads --quiet --overwrite --output "$W/in-process.h5" \
      > "$W/train.out" || echo "FAILED: train"
    echo "in-process --threads $threads: $(echo "$(now) - $start" | bc) s; $(tail -1 "$W/train.out")"
  done
  rm -f "$W/network.h5" "$W/network.audit.jsonl"
  start=$(now)
  "$B" aggregator $T --threads 1 --bind tcp://127.0.0.1:0 --server-key "$W/keys/server.key" \
    --allow "$W/allow" --output "$W/network.h5" > "$W/aggregator.out" 2> "$W/aggregator.err" &
  aggregator=$!
  for _ in $(seq 600); do grep -q "listening on" "$W/aggregator.out" && break; sleep 0.05; done
  endpoint=$(grep -o 'tcp://127.0.0.1:[0-9]*' "$W/aggregator.out")
  if [ -z "$endpoint" ]; then
    echo "FAILED: no endpoint in $W/aggregator.out: $(cat "$W/aggregator.err")"
    kill "$aggregator"
    exit 1
  fi
  for name in $SITES; do
    "$B" site --site "$name" --connect "$endpoint" --key "$W/keys/$name.key" \
      --server-public "$W/keys/server.pub" --update-compression "${COMPRESSION:-none}" \
      --quiet > /dev/null 2>> "$W/sites.err" &
  done
  wait "$aggregator" || echo "FAILED: aggregator: $(tail -3 "$W/aggregator.err")"
  wait
  echo "network (start to checkpoint, includes site start-up): $(echo "$(now) - $start" | bc) s"
  grep "^trained" "$W/aggregator.out"
  grep "bytes sent/received" "$W/aggregator.out" | tail -1
  grep "^round 1/" "$W/aggregator.out"
  grep "^round ${ROUNDS:-20}/" "$W/aggregator.out"
done
echo "end load $(cut -d' ' -f1 /proc/loadavg)"
