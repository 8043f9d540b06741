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

# Columns that the tables read. The day-3 and dose columns exist only for an
# episode of at least three days with at least six doses (the shipped
# vancomycin definition: 72 h, a dose every 12 h).
NUMERIC_COLUMNS = [
    "clearanceLitersPerHour",
    "day3AUC",
    "anyTroughAboveLimit",
    "firstTroughAboveLimitHours",
    "dose5Milligrams",
    "dose6Milligrams",
]
REQUIRED_COLUMNS = ["site", "policy"] + NUMERIC_COLUMNS


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
            if not group:
                # Equal edges (tied clearances, or more groups than patients) leave
                # a group empty, which has no rates or medians.
                print(f"| {site} | {low:.1f}-{high:.1f} | - | - | - | - | - | - |")
                continue
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


def positive_integer(text):
    """Parse a count of at least 1 for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer {text!r}; expected a count such as 5")
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} groups is invalid; expected at least 1")
    return value


def read_rows(parser, path):
    """Return the CSV's rows, or exit through parser.error when the file is unusable."""
    try:
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            header = reader.fieldnames or []
    except OSError as error:
        parser.error(
            f"cannot read {path}: {error.strerror}; "
            "pass the file that titrate evaluate --patients-csv wrote"
        )
    except UnicodeDecodeError:
        parser.error(f"{path} is not UTF-8 text; pass the CSV of titrate evaluate --patients-csv")
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        parser.error(
            f"{path} is missing the column(s) {', '.join(missing)}; expected the per-patient CSV of "
            "titrate evaluate --patients-csv for an episode of at least 3 days and 6 doses"
        )
    if not rows:
        parser.error(f"{path} has a header but no patient rows; evaluate at least one patient")
    # Line 1 is the header.
    for line, row in enumerate(rows, start=2):
        for name in NUMERIC_COLUMNS:
            try:
                float(row[name])
            except (TypeError, ValueError):
                parser.error(f"{path} line {line}: {name} is {row[name]!r}, not a number")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", help="file written by titrate evaluate --patients-csv")
    parser.add_argument("--policy", default="learned", help="policy of the clearance table")
    parser.add_argument(
        "--parts", type=positive_integer, default=5, help="clearance groups per site, at least 1"
    )
    arguments = parser.parse_args()
    rows = read_rows(parser, arguments.csv)
    if not any(row["policy"] == arguments.policy for row in rows):
        policies = sorted({row["policy"] for row in rows})
        parser.error(
            f"no rows of policy {arguments.policy!r} in {arguments.csv}; "
            f"pass --policy with one of {policies}"
        )
    clearance_table(rows, arguments.policy, arguments.parts)
    print()
    first_toxic_table(rows)


if __name__ == "__main__":
    main()
