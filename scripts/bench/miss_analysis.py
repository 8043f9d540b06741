"""Break a policy's misses down by true clearance and by the time of the first toxic trough.

Reads the per-patient CSV of `titrate evaluate --patients-csv FILE` and
prints two Markdown tables for Docs/benchmarks.md:

1. per site, the patients split into quintiles of their true clearance.
   Each row gives day-3 attainment, the share below 400 mg h/L, the share
   with a true trough above 20 mg/L and the median day-3 AUC24. It also
   gives the median dose given on day 3 (the doses at 48 and 60 h) and the
   daily dose that a steady state at AUC24 480 needs (CL x 480);
2. per policy, how many patients first crossed 20 mg/L at each trough
   time (12, 24, ..., 72 h).

Usage:

    titrate evaluate Checkpoints/vancomycin-4site.h5 --patients 5000 \\
        --baselines oracle,bayesian --patients-csv patients.csv
    python3 scripts/bench/miss_analysis.py patients.csv --policy learned
"""

import argparse
import csv
import statistics
from collections import Counter, defaultdict


def quantile_edges(values, parts):
    """Return parts + 1 edges that split the sorted values into equal groups."""
    ordered = sorted(values)
    last = len(ordered) - 1
    return [ordered[round(last * index / parts)] for index in range(parts + 1)]


def clearance_table(rows, policy, parts):
    """Print attainment and misses by clearance quintile, site by site."""
    print(
        "| site | true CL (L/h) | day-3 in 400-600 | below 400 | trough > 20 "
        "| median day-3 AUC24 | median day-3 dose (mg) | CL x 480 (mg/day) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    by_site = defaultdict(list)
    for row in rows:
        if row["policy"] == policy:
            by_site[row["site"]].append(row)
    for site, patients in by_site.items():
        edges = quantile_edges([float(p["clearanceLitersPerHour"]) for p in patients], parts)
        for index in range(parts):
            low, high = edges[index], edges[index + 1]
            # Half-open groups, except the last, so no patient counts twice.
            last_group = index == parts - 1
            group = [
                p
                for p in patients
                if low <= float(p["clearanceLitersPerHour"])
                and (float(p["clearanceLitersPerHour"]) < high or last_group)
            ]
            aucs = [float(p["day3AUC"]) for p in group]
            attained = sum(400 <= auc <= 600 for auc in aucs) / len(group)
            below = sum(auc < 400 for auc in aucs) / len(group)
            toxic = sum(float(p["anyTroughAboveLimit"]) > 0 for p in group) / len(group)
            day3_dose = statistics.median(
                float(p["dose5Milligrams"]) + float(p["dose6Milligrams"]) for p in group
            )
            needed = statistics.median(float(p["clearanceLitersPerHour"]) for p in group) * 480
            print(
                f"| {site} | {low:.1f}-{high:.1f} | {attained:.1%} | {below:.1%} | {toxic:.1%} "
                f"| {statistics.median(aucs):.0f} | {day3_dose:.0f} | {needed:.0f} |"
            )


def first_toxic_table(rows):
    """Print, per policy, when patients first crossed 20 mg/L."""
    times = [12, 24, 36, 48, 60, 72]
    counts = defaultdict(Counter)
    totals = Counter()
    for row in rows:
        totals[row["policy"]] += 1
        if float(row["anyTroughAboveLimit"]) > 0:
            counts[row["policy"]][round(float(row["firstTroughAboveLimitHours"]))] += 1
    print("| policy | patients | " + " | ".join(f"first at {t} h" for t in times) + " | any |")
    print("|---|---|" + "---|" * (len(times) + 1))
    for policy, total in totals.items():
        cells = " | ".join(str(counts[policy][t]) for t in times)
        print(f"| {policy} | {total} | {cells} | {sum(counts[policy].values())} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", help="file written by titrate evaluate --patients-csv")
    parser.add_argument("--policy", default="learned", help="policy of the clearance table")
    parser.add_argument("--parts", type=int, default=5, help="clearance groups per site")
    arguments = parser.parse_args()
    with open(arguments.csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not any(row["policy"] == arguments.policy for row in rows):
        policies = sorted({row["policy"] for row in rows})
        parser.error(f"no rows of policy {arguments.policy!r}; the file holds {policies}")
    clearance_table(rows, arguments.policy, arguments.parts)
    print()
    first_toxic_table(rows)


if __name__ == "__main__":
    main()
