#!/usr/bin/env bash
# Runs the NumPy, PyTorch and Stable-Baselines3 references of the speed
# benchmark and prints one JSON object per line, for Docs/benchmarks.md.
# Needs the packages in requirements.txt. Run it in the same session as
# `make bench` so both see the same machine.
set -euo pipefail
cd "$(dirname "$0")"
for threads in 1 2; do
  for patients in 1000 10000 100000; do
    python3 evaluate_numpy.py --threads "$threads" --patients "$patients" --repeats 3
    python3 evaluate_torch.py --threads "$threads" --patients "$patients" --repeats 3
  done
  python3 evaluate_numpy.py --threads "$threads" --patients 1000000 --repeats 1 --warmup 0
  python3 evaluate_torch.py --threads "$threads" --patients 1000000 --repeats 1 --warmup 0
done
python3 train_sb3.py --threads 1 --envs 1 8 --total-timesteps 20000
