"""Command line, timing and JSON report shared by the evaluation programs.

This module imports numpy only inside its functions, so a program can
parse its arguments and limit the thread pools before numpy loads.
"""

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time

CHECK_PATIENTS_PRINTED = 5


def parse_arguments(description):
    """Parse the options common to both evaluation programs."""
    parser = argparse.ArgumentParser(description=description)

    parser.add_argument(
        "--threads",
        type=int,
        choices=(1, 2),
        default=1,
        help="threads of BLAS, OpenMP and PyTorch (default 1)",
    )
    parser.add_argument(
        "--patients",
        type=int,
        default=10_000,
        help="virtual patients evaluated together, 1 or more (default 10000)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="timed episodes; the report gives their median and best (default 3)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="untimed episodes run before the timed ones (default 1)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of patients, noise and policy (default 0)"
    )
    parser.add_argument(
        "--weights",
        help="policy weights as .npz with W1 b1 W2 b2 W3 b3, W stored (fan_in, fan_out) "
        "(default: PyTorch-style random initialisation from --seed)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="run one untimed episode and print the first 5 patients' doses and day-3 "
        "AUC24, plus the PK stepping error against solve_ivp, instead of timing",
    )
    arguments = parser.parse_args()

    if arguments.patients < 1:
        parser.error(f"invalid --patients {arguments.patients}: expected 1 or more")
    if arguments.repeats < 1:
        parser.error(f"invalid --repeats {arguments.repeats}: expected 1 or more")
    if arguments.warmup < 0:
        parser.error(f"invalid --warmup {arguments.warmup}: expected 0 or more")
    if arguments.weights and not os.path.isfile(arguments.weights):
        parser.error(f"--weights file not found: {arguments.weights}")
    return arguments


def _processor_name():
    """Return the CPU model from /proc/cpuinfo, or the platform string."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _peak_resident_mebibytes():
    """Return ru_maxrss of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _check_report(backend, arguments):
    """Run the check episodes and return their JSON-ready report."""
    import numpy as np

    import pk_reference
    import vancomycin_workload as workload

    result = backend.run_episode(workload.noise_generator(arguments.seed))
    printed_count = min(CHECK_PATIENTS_PRINTED, arguments.patients)
    doses = result["dose_levels"] * workload.DOSE_INCREMENT_MILLIGRAMS
    day3_auc = result["day_auc"][:, 2]
    patients = [
        {"doses_milligrams": doses[i].tolist(), "day3_auc24": float(day3_auc[i])}
        for i in range(printed_count)
    ]

    forced = backend.run_episode(
        workload.noise_generator(arguments.seed),
        forced_levels=pk_reference.CHECK_DOSE_LEVELS,
        recorded_patients=1,
    )
    first_patient = {name: float(values[0]) for name, values in backend.patients.items()}
    comparison = pk_reference.compare_with_reference(first_patient, forced["window_end_states"])
    comparison["stepped_day3_auc"] = float(forced["day_auc"][0, 2])
    return {
        "patients": patients,
        "all_patients": {
            "dose_sum_milligrams": float(doses.sum()),
            "day3_auc24_sum": float(np.sum(day3_auc)),
            "episode_return_sum": float(np.sum(result["episode_return"])),
        },
        "pk_reference": comparison,
    }


def run_evaluation(program, make_backend, arguments):
    """Sample patients, time reset and episodes, and print a JSON report.

    `make_backend(patients, weights)` builds the backend from NumPy arrays.
    Returns the process exit status (1 when a check fails).
    """
    import numpy as np

    import vancomycin_workload as workload

    start = time.perf_counter()
    patients = workload.sample_patients(arguments.patients, arguments.seed)
    if arguments.weights:
        weights = workload.load_policy_weights(arguments.weights)
    else:
        weights = workload.initial_policy_weights(arguments.seed)
    backend = make_backend(patients, weights)
    sampling_seconds = time.perf_counter() - start

    start = time.perf_counter()
    backend.reset()
    reset_seconds = time.perf_counter() - start

    report = {
        "program": program,
        "backend": backend.name,
        "versions": backend.versions(),
        "python": platform.python_version(),
        "processor": _processor_name(),
        "logical_cpus": os.cpu_count(),
        "threads": arguments.threads,
        "patients": arguments.patients,
        "seed": arguments.seed,
        "policy_weights": arguments.weights or "random initialisation",
        "decisions_per_episode": workload.DECISIONS_PER_EPISODE,
        "grid_steps_per_decision": workload.STEPS_PER_DECISION,
        "sampling_seconds": sampling_seconds,
        "reset_seconds": reset_seconds,
    }
    if arguments.check:
        report["check"] = _check_report(backend, arguments)
        report["peak_resident_mebibytes"] = _peak_resident_mebibytes()
        json.dump(report, sys.stdout, indent=2)
        print()
        return 0 if report["check"]["pk_reference"]["passed"] else 1

    for _ in range(arguments.warmup):
        backend.run_episode(workload.noise_generator(arguments.seed))
    episode_seconds = []
    for _ in range(arguments.repeats):
        start = time.perf_counter()
        result = backend.run_episode(workload.noise_generator(arguments.seed))
        episode_seconds.append(time.perf_counter() - start)

    decisions = arguments.patients * workload.DECISIONS_PER_EPISODE
    median_seconds = statistics.median(episode_seconds)
    report.update(
        {
            "warmup_episodes": arguments.warmup,
            "episode_seconds": episode_seconds,
            "episode_seconds_median": median_seconds,
            "patient_decisions_per_second": decisions / median_seconds,
            "patient_decisions_per_second_best": decisions / min(episode_seconds),
            "reset_patients_per_second": arguments.patients / reset_seconds,
            "peak_resident_mebibytes": _peak_resident_mebibytes(),
            "mean_episode_return": float(np.mean(result["episode_return"])),
            "mean_day3_auc24": float(np.mean(result["day_auc"][:, 2])),
            "mean_dose_milligrams": float(
                np.mean(result["dose_levels"]) * workload.DOSE_INCREMENT_MILLIGRAMS
            ),
        }
    )
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0
