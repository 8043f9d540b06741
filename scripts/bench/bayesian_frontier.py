#!/usr/bin/env python3
"""Attainment and toxic-trough rates of the MAP-guided Bayesian baseline
over a grid of target AUC24 values and predicted-trough caps, next to the
learned policy of a checkpoint, from `titrate evaluate --json`.

usage: python3 scripts/bench/bayesian_frontier.py [CHECKPOINT] [--patients N]
"""
import argparse
import json
import subprocess

parser = argparse.ArgumentParser()
parser.add_argument("checkpoint", nargs="?", default="Checkpoints/vancomycin-4site.h5")
parser.add_argument("--patients", type=int, default=5000)
parser.add_argument("--binary", default=".build/release/titrate")
parser.add_argument("--targets", default="400,425,450,475,500")
parser.add_argument("--caps", default="none,17,15,13")
arguments = parser.parse_args()


def evaluate(extra):
    command = [arguments.binary, "evaluate", arguments.checkpoint, "--patients",
               str(arguments.patients), "--baselines", "bayesian", "--worst", "0",
               "--json"] + extra
    report = json.loads(subprocess.run(command, check=True, capture_output=True,
                                       text=True).stdout)
    rows = {}
    for cohort in report["cohorts"]:
        for summary in cohort["summaries"]:
            rows.setdefault(summary["policy"], {})[cohort["name"]] = summary
    return rows


def rate(proportion):
    return proportion["events"] / proportion["total"]


def describe(by_cohort):
    pooled = by_cohort["pooled"]
    sites = {name: s for name, s in by_cohort.items() if name != "pooled"}
    worst = max(sites, key=lambda name: rate(sites[name]["anyTroughAboveLimit"]))
    lowest = min(sites, key=lambda name: rate(sites[name]["targetAttainment"]))
    return (f"{100 * rate(pooled['targetAttainment']):.1f}% | "
            f"{100 * rate(pooled['anyTroughAboveLimit']):.1f}% | "
            f"{worst} {100 * rate(sites[worst]['anyTroughAboveLimit']):.1f}% | "
            f"{lowest} {100 * rate(sites[lowest]['targetAttainment']):.1f}%")


print("| policy | target AUC24 | trough cap | day-3 in 400-600 | any trough > 20 | "
      "worst site (trough > 20) | lowest site attainment |")
print("|---|---|---|---|---|---|---|")
first = True
for target in arguments.targets.split(","):
    for cap in arguments.caps.split(","):
        extra = ["--bayesian-target-auc", target]
        if cap != "none":
            extra += ["--bayesian-trough-limit", cap]
        rows = evaluate(extra)
        if first:
            print(f"| learned | | | {describe(rows['learned'])} |")
            first = False
        print(f"| bayesian | {target} | {cap} | {describe(rows['bayesian'])} |")
