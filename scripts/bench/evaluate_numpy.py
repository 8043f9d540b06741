#!/usr/bin/env python3
"""Time the vancomycin evaluation workload with vectorised NumPy.

Prints a JSON report on stdout: patient-decisions per second over one
72 h episode (6 decisions) of --patients patients, the reset time, and the
peak resident memory. See README.md in this folder.
"""

import sys

from evaluation_harness import parse_arguments, run_evaluation
from thread_limits import limit_threads


def main():
    arguments = parse_arguments(__doc__.splitlines()[0])
    limit_threads(arguments.threads)
    # Imported after the thread limit, because OpenBLAS reads it on load.
    from numpy_evaluation import NumpyEvaluation

    return run_evaluation("evaluate_numpy.py", NumpyEvaluation, arguments)


if __name__ == "__main__":
    sys.exit(main())
