"""Reference solution of one patient's episode with SciPy's `solve_ivp`.

Used by the `--check` mode of the evaluation programs to verify the exact
grid stepping (Phi, Gamma from the matrix exponential) against an adaptive
ODE solver.
"""

import numpy as np
from scipy.integrate import solve_ivp

import vancomycin_workload as workload

# Regimen of the check: a 1500 mg loading dose, then 1000 mg every 12 h.
CHECK_DOSE_LEVELS = (6, 4, 4, 4, 4, 4)
SOLVER_RELATIVE_TOLERANCE = 1e-10
SOLVER_ABSOLUTE_TOLERANCE = 1e-12
CHECK_RELATIVE_TOLERANCE = 1e-6


def _derivatives(clearance, central_volume, intercompartmental, peripheral_volume, rate):
    """Return the right-hand side of the two-compartment model with AUC."""
    k10 = clearance / central_volume
    k12 = intercompartmental / central_volume
    k21 = intercompartmental / peripheral_volume

    def right_hand_side(_hours, state):
        central_amount, peripheral_amount, _auc = state
        return [
            rate - (k10 + k12) * central_amount + k21 * peripheral_amount,
            k12 * central_amount - k21 * peripheral_amount,
            central_amount / central_volume,
        ]

    return right_hand_side


def reference_window_end_states(parameters, dose_levels):
    """Integrate one patient through the episode with `solve_ivp` (Radau).

    `parameters` maps the four PK parameter names of `sample_patients` to
    floats. Returns a (decisions, 3) array of A1 (mg), A2 (mg) and AUC
    (mg*h/L) at the end of each 12 h window. Each constant-rate segment is
    integrated on its own, so the solver never steps across a rate change.
    """
    clearance = parameters["clearance_liters_per_hour"]
    central_volume = parameters["central_volume_liters"]
    intercompartmental = parameters["intercompartmental_clearance_liters_per_hour"]
    peripheral_volume = parameters["peripheral_volume_liters"]
    state = np.zeros(3)
    window_end_states = []
    for decision, level in enumerate(dose_levels):
        start_hours = decision * workload.DECISION_INTERVAL_HOURS
        infusion_hours = workload.INFUSION_STEPS_BY_LEVEL[level] * workload.GRID_STEP_HOURS
        dose_milligrams = level * workload.DOSE_INCREMENT_MILLIGRAMS
        segments = [
            (start_hours, start_hours + infusion_hours, dose_milligrams / infusion_hours),
            (
                start_hours + infusion_hours,
                start_hours + workload.DECISION_INTERVAL_HOURS,
                0.0,
            ),
        ]
        for segment_start, segment_end, rate in segments:
            solution = solve_ivp(
                _derivatives(
                    clearance, central_volume, intercompartmental, peripheral_volume, rate
                ),
                (segment_start, segment_end),
                state,
                method="Radau",
                rtol=SOLVER_RELATIVE_TOLERANCE,
                atol=SOLVER_ABSOLUTE_TOLERANCE,
            )
            if not solution.success:
                raise RuntimeError(
                    f"solve_ivp failed on [{segment_start}, {segment_end}] h: {solution.message}"
                )
            state = solution.y[:, -1]
        window_end_states.append(state.copy())
    return np.array(window_end_states)


def compare_with_reference(parameters, stepped_states):
    """Compare stepped window-end states of one patient with `solve_ivp`.

    Returns a JSON-ready dict with the maximum relative error over A1, A2
    and AUC at every window end and whether it is within 1e-6.
    """
    reference = reference_window_end_states(parameters, CHECK_DOSE_LEVELS)
    relative_error = np.abs(stepped_states - reference) / np.abs(reference)
    max_relative_error = float(relative_error.max())
    return {
        "regimen_milligrams": [
            level * workload.DOSE_INCREMENT_MILLIGRAMS for level in CHECK_DOSE_LEVELS
        ],
        "solver": f"solve_ivp Radau rtol {SOLVER_RELATIVE_TOLERANCE} "
        f"atol {SOLVER_ABSOLUTE_TOLERANCE}",
        "max_relative_error": max_relative_error,
        "tolerance": CHECK_RELATIVE_TOLERANCE,
        "passed": max_relative_error <= CHECK_RELATIVE_TOLERANCE,
        "reference_day3_auc": float(reference[5, 2] - reference[3, 2]),
    }
