#!/usr/bin/env python3
"""Time the vancomycin evaluation workload with PyTorch CPU tensors.

Prints a JSON report on stdout: patient-decisions per second over one
72 h episode (6 decisions) of --patients patients, the reset time, and the
peak resident memory. See README.md in this folder.
"""

import sys

from evaluation_harness import parse_arguments, run_evaluation
from thread_limits import limit_threads, limit_torch_threads


def main():
    arguments = parse_arguments(__doc__.splitlines()[0])
    limit_threads(arguments.threads)
    # Imported after the thread limit, because OpenMP and MKL read it on load.
    import torch

    limit_torch_threads(torch, arguments.threads)
    from torch_evaluation import TorchEvaluation

    return run_evaluation("evaluate_torch.py", TorchEvaluation, arguments)


if __name__ == "__main__":
    sys.exit(main())
