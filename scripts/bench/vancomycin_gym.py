"""Gymnasium environment of one vancomycin patient, for the SB3 baseline.

The dynamics, dose actuator, measurement schedule and observation are the
ones of the batched evaluation (see `vancomycin_workload.py`), for a single
patient stepped with Python floats. One step is one decision: the dose of
level `action` (0-12, times 250 mg), then 12 h on the 0.25 h grid. An
episode is 6 decisions (72 h) and ends with `terminated`.

Reward per step: -0.5 when the true concentration just before the next
dose (or at 72 h) exceeds 20 mg/L. At the end of each day (after decisions
2, 4 and 6), +1 when that day's AUC24 lies in [400, 600] mg*h/L.
"""

from typing import ClassVar

import gymnasium as gym
import numpy as np
import scipy.linalg

import vancomycin_workload as workload


class VancomycinDosingEnv(gym.Env):
    """One Goti 2018 vancomycin patient dosed every 12 h for 72 h."""

    metadata: ClassVar[dict] = {"render_modes": []}

    def __init__(self):
        self.observation_space = gym.spaces.Box(
            -np.inf, np.inf, (workload.OBSERVATION_SIZE,), dtype=np.float32
        )
        self.action_space = gym.spaces.Discrete(workload.DOSE_LEVEL_COUNT)
        self._patient = None

    def reset(self, *, seed=None, options=None):
        """Sample a new patient, or use `options["patient"]`, and start at 0 h.

        `options["patient"]` maps the names returned by
        `workload.sample_patients` to floats.
        """
        super().reset(seed=seed)
        if options and "patient" in options:
            patient = {name: np.array([value]) for name, value in options["patient"].items()}
        else:
            patient_seed = int(self.np_random.integers(2**63))
            patient = workload.sample_patients(1, patient_seed)
        self._patient = {name: float(values[0]) for name, values in patient.items()}
        self._covariates = [float(column[0]) for column in workload.covariate_columns(patient)]

        exponential = scipy.linalg.expm(workload.augmented_system_matrices(patient)[0])
        self._transition = [
            [float(exponential[row, column]) for column in range(3)] for row in range(3)
        ]
        self._infusion_response = [float(exponential[row, 3]) for row in range(3)]

        self._amounts = [0.0, 0.0, 0.0]  # A1 (mg), A2 (mg), AUC (mg*h/L)
        self._decision = 0
        self._previous_dose = 0.0
        self._trough = None  # (mg/L, hours) of the latest draw
        self._peak = None
        self._auc_at_day_start = 0.0
        return self._observation(), {}

    @property
    def amounts(self):
        """Current A1 (mg), A2 (mg) and AUC since 0 h (mg*h/L) of the patient."""
        return tuple(self._amounts)

    def _observation(self):
        """Return the normalised float32 observation at the current decision."""
        hours = self._decision * workload.DECISION_INTERVAL_HOURS
        trough, trough_hours = self._trough or (0.0, hours)
        peak, peak_hours = self._peak or (0.0, hours)
        raw = self._covariates + [
            hours,
            self._previous_dose,
            trough,
            1.0 if self._trough else 0.0,
            hours - trough_hours,
            peak,
            1.0 if self._peak else 0.0,
            hours - peak_hours,
        ]
        observation = np.array(raw, dtype=np.float32)
        return (observation - workload.OBSERVATION_MEAN) / workload.OBSERVATION_STD

    def _measure(self, proportional_draw, additive_draw):
        """Return a measured central concentration (mg/L) with residual error."""
        concentration = self._amounts[0] / self._patient["central_volume_liters"]
        return float(workload.measured_level(concentration, proportional_draw, additive_draw))

    def step(self, action):
        """Give the dose of level `action` and simulate the next 12 h."""
        level = int(action)
        if not 0 <= level < workload.DOSE_LEVEL_COUNT:
            raise ValueError(f"invalid action {action}: expected a dose level 0-12 (times 250 mg)")
        dose = min(level * workload.DOSE_INCREMENT_MILLIGRAMS, workload.MAX_DOSE_MILLIGRAMS)
        infusion_steps = int(workload.INFUSION_STEPS_BY_LEVEL[level])
        infusion_rate = dose / (infusion_steps * workload.GRID_STEP_HOURS)
        peak_step = int(workload.PEAK_STEP_BY_LEVEL[level])
        draws = self.np_random.standard_normal(4)
        start_hours = self._decision * workload.DECISION_INTERVAL_HOURS
        last_decision = self._decision == workload.DECISIONS_PER_EPISODE - 1

        (p00, p01, p02), (p10, p11, p12), (p20, p21, p22) = self._transition
        g0, g1, g2 = self._infusion_response
        a1, a2, auc = self._amounts
        for step in range(1, workload.STEPS_PER_DECISION + 1):
            rate = infusion_rate if step <= infusion_steps else 0.0
            a1, a2, auc = (
                p00 * a1 + p01 * a2 + p02 * auc + g0 * rate,
                p10 * a1 + p11 * a2 + p12 * auc + g1 * rate,
                p20 * a1 + p21 * a2 + p22 * auc + g2 * rate,
            )
            if step == peak_step:
                self._amounts = [a1, a2, auc]
                self._peak = (
                    self._measure(draws[0], draws[1]),
                    start_hours + step * workload.GRID_STEP_HOURS,
                )
            if step == workload.TROUGH_STEP and not last_decision:
                self._amounts = [a1, a2, auc]
                self._trough = (
                    self._measure(draws[2], draws[3]),
                    start_hours + step * workload.GRID_STEP_HOURS,
                )
        self._amounts = [a1, a2, auc]

        reward = 0.0
        true_trough = a1 / self._patient["central_volume_liters"]
        if true_trough > workload.TOXIC_TROUGH_MILLIGRAMS_PER_LITER:
            reward -= workload.TOXIC_TROUGH_PENALTY
        info = {}
        if self._decision % 2 == 1:
            day_auc = auc - self._auc_at_day_start
            self._auc_at_day_start = auc
            reward += float(workload.in_target_range(np.array(day_auc)))
            info["day_auc24"] = day_auc
        self._decision += 1
        self._previous_dose = dose
        terminated = self._decision == workload.DECISIONS_PER_EPISODE
        return self._observation(), reward, terminated, False, info
