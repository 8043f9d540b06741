#!/usr/bin/env python3
"""Check that the NumPy and PyTorch evaluations agree and match solve_ivp.

Runs `evaluate_numpy.py --check` and `evaluate_torch.py --check` with the
same seed and compares their output. The first 5 patients' doses and the
dose sum must be equal. Their day-3 AUC24 and its sum must agree within a
relative 1e-9. Each program's PK stepping must be within a relative 1e-6
of solve_ivp. Prints one line per comparison and exits with status 1 if
any fails.
"""

import argparse
import json
import math
import os
import subprocess
import sys

AUC_RELATIVE_TOLERANCE = 1e-9
FOLDER = os.path.dirname(os.path.abspath(__file__))


def run_check(program, patients, seed):
    """Run one evaluation program in --check mode and return its report."""
    command = [
        sys.executable,
        os.path.join(FOLDER, program),
        "--check",
        "--patients",
        str(patients),
        "--seed",
        str(seed),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode not in (0, 1):
        sys.stderr.write(completed.stderr)
        raise SystemExit(f"{program} failed with exit status {completed.returncode}")
    return json.loads(completed.stdout)["check"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000, help="patients (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    arguments = parser.parse_args()

    numpy_check = run_check("evaluate_numpy.py", arguments.patients, arguments.seed)
    torch_check = run_check("evaluate_torch.py", arguments.patients, arguments.seed)
    failures = 0

    def report(passed, message):
        nonlocal failures
        failures += 0 if passed else 1
        print(("ok    " if passed else "FAIL  ") + message)

    for index, (left, right) in enumerate(zip(numpy_check["patients"], torch_check["patients"])):
        report(
            left["doses_milligrams"] == right["doses_milligrams"],
            f"patient {index} doses: numpy {left['doses_milligrams']} "
            f"torch {right['doses_milligrams']}",
        )
        report(
            math.isclose(left["day3_auc24"], right["day3_auc24"], rel_tol=AUC_RELATIVE_TOLERANCE),
            f"patient {index} day-3 AUC24: numpy {left['day3_auc24']:.9f} "
            f"torch {right['day3_auc24']:.9f} mg*h/L",
        )
    for name, tolerance in (
        ("dose_sum_milligrams", 0.0),
        ("day3_auc24_sum", AUC_RELATIVE_TOLERANCE),
        ("episode_return_sum", 0.0),
    ):
        left = numpy_check["all_patients"][name]
        right = torch_check["all_patients"][name]
        report(
            math.isclose(left, right, rel_tol=tolerance),
            f"{name} over {arguments.patients} patients: numpy {left} torch {right}",
        )
    for program, check in (("numpy", numpy_check), ("torch", torch_check)):
        pk = check["pk_reference"]
        report(
            pk["passed"],
            f"{program} PK stepping vs solve_ivp: max relative error "
            f"{pk['max_relative_error']:.3e} (tolerance {pk['tolerance']})",
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
