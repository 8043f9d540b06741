"""Run Titrate's evaluation benchmark and the NumPy and PyTorch references in turn.

On a shared machine the speed of every program drifts with the load, so
single runs of each are hard to compare. This program therefore runs
rounds. In each round every Titrate binary and then both references
measure the same batch size once, each run reporting the median of
`--repeats` episodes. The program prints every round and then, per
program, the minimum, median and maximum of the patient-decisions per
second, and the ratios of each Titrate binary to NumPy and to PyTorch
taken within each round.

    python3 scripts/bench/paired_evaluation.py --patients 100000 --rounds 5 \\
        --titrate portable=.build/release/titrate \\
        --titrate avx2=.build-haswell/release/titrate \\
        --environment .build/vancomycin-plain.json

`--environment` is the definition without the MAP features (see the `bench`
target of the Makefile), so that Titrate computes what the references do.
"""

import argparse
import json
import pathlib
import statistics
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent


def titrate_rate(binary, environment, patients, repeats, threads):
    """Return patient-decisions per second of one `titrate bench` run."""
    command = [
        binary,
        "bench",
        "--environment",
        environment,
        "--patients",
        str(patients),
        "--repeats",
        str(repeats),
        "--threads",
        str(threads),
        "--training-steps",
        "0",
        "--json",
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.splitlines()[0])["patient_decisions_per_second"]


def reference_rate(name, patients, repeats, threads):
    """Return patient-decisions per second of one reference run."""
    command = [
        sys.executable,
        str(HERE / f"evaluate_{name}.py"),
        "--patients",
        str(patients),
        "--repeats",
        str(repeats),
        "--threads",
        str(threads),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output)["patient_decisions_per_second"]


def spread(values):
    """Format the minimum, median and maximum of `values`."""
    return f"{min(values):.3g} / {statistics.median(values):.3g} / {max(values):.3g}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--titrate",
        action="append",
        required=True,
        metavar="NAME=BINARY",
        help="a titrate binary to measure, with a name for the report",
    )
    parser.add_argument("--environment", required=True, help="environment definition file")
    parser.add_argument("--patients", type=int, default=100000, help="batch size (default 100000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed episodes per run (default 3)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        choices=(1, 2),
        help="threads of every program (default 1)",
    )
    arguments = parser.parse_args()
    binaries = []
    for entry in arguments.titrate:
        name, separator, binary = entry.partition("=")
        if not separator or not name or not binary:
            parser.error(
                f"invalid --titrate {entry!r}: expected NAME=BINARY, e.g. portable=titrate"
            )
        binaries.append((name, binary))

    rates = {name: [] for name, _ in binaries} | {"numpy": [], "torch": []}
    for round_index in range(arguments.rounds):
        for name, binary in binaries:
            rates[name].append(
                titrate_rate(
                    binary,
                    arguments.environment,
                    arguments.patients,
                    arguments.repeats,
                    arguments.threads,
                )
            )
        for name in ("numpy", "torch"):
            rates[name].append(
                reference_rate(name, arguments.patients, arguments.repeats, arguments.threads)
            )
        print(json.dumps({"round": round_index + 1} | {k: round(v[-1]) for k, v in rates.items()}))

    print(
        f"patient-decisions/s, min / median / max of {arguments.rounds} rounds, "
        f"N = {arguments.patients}, {arguments.threads} thread(s)"
    )
    for name, values in rates.items():
        print(f"  {name}: {spread(values)}")
    for name, _ in binaries:
        for reference in ("numpy", "torch"):
            ratios = [a / b for a, b in zip(rates[name], rates[reference])]
            print(f"  {name} / {reference}: {spread(ratios)}")


if __name__ == "__main__":
    main()
