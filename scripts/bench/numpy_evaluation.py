"""Vectorised NumPy evaluation of the vancomycin workload.

Every operation runs over all patients at once; the only Python loops are
over the 6 decisions and the 48 grid steps of each. PK state is float64 in
structure-of-arrays layout, the policy MLP is float32.
"""

import numpy as np
import scipy
import scipy.linalg

import vancomycin_workload as workload


class NumpyEvaluation:
    """Evaluation of one policy on a fixed batch of sampled patients."""

    name = "numpy"

    def __init__(self, patients, weights):
        self.patients = patients
        self.patient_count = patients["clearance_liters_per_hour"].shape[0]
        self.weights = weights
        self.central_volume = patients["central_volume_liters"]
        self.covariates = np.stack(workload.covariate_columns(patients), axis=1).astype(np.float32)
        self.transition = None  # Phi, (3, 3, N)
        self.infusion_response = None  # Gamma, (3, N)

        count = self.patient_count
        self.observations = np.empty((count, workload.OBSERVATION_SIZE), dtype=np.float32)
        self.hidden1 = np.empty((count, workload.HIDDEN_SIZE), dtype=np.float32)
        self.hidden2 = np.empty((count, workload.HIDDEN_SIZE), dtype=np.float32)
        self.logits = np.empty((count, workload.DOSE_LEVEL_COUNT), dtype=np.float32)
        self.state = np.empty((3, count))
        self.next_state = np.empty((3, count))
        self.step_rate = np.empty(count)
        self.product = np.empty(count)

    @staticmethod
    def versions():
        """Return the versions of the numerical libraries in use."""
        return {"numpy": np.__version__, "scipy": scipy.__version__}

    def reset(self):
        """Compute Phi and Gamma of every patient from exp(M * 0.25 h)."""
        exponentials = scipy.linalg.expm(workload.augmented_system_matrices(self.patients))
        self.transition = np.ascontiguousarray(exponentials[:, :3, :3].transpose(1, 2, 0))
        self.infusion_response = np.ascontiguousarray(exponentials[:, :3, 3].T)

    def _choose_levels(self, features):
        """Run the MLP on normalised observations; return argmax levels."""
        observations = self.observations
        observations[:, :6] = self.covariates
        for column, values in enumerate(features, start=6):
            observations[:, column] = values
        observations -= workload.OBSERVATION_MEAN
        observations /= workload.OBSERVATION_STD

        weights = self.weights
        np.matmul(observations, weights["W1"], out=self.hidden1)
        self.hidden1 += weights["b1"]
        np.tanh(self.hidden1, out=self.hidden1)
        np.matmul(self.hidden1, weights["W2"], out=self.hidden2)
        self.hidden2 += weights["b2"]
        np.tanh(self.hidden2, out=self.hidden2)
        np.matmul(self.hidden2, weights["W3"], out=self.logits)
        self.logits += weights["b3"]
        return np.argmax(self.logits, axis=1)

    def _advance(self):
        """Advance every patient one grid step: x <- Phi x + Gamma rate."""
        state, next_state, product = self.state, self.next_state, self.product
        for row in range(3):
            target = next_state[row]
            np.multiply(self.transition[row, 0], state[0], out=target)
            for column in (1, 2):
                np.multiply(self.transition[row, column], state[column], out=product)
                target += product
            np.multiply(self.infusion_response[row], self.step_rate, out=product)
            target += product
        self.state, self.next_state = next_state, state

    def run_episode(self, noise, forced_levels=None, recorded_patients=0):
        """Run one 72 h episode of every patient from an empty body.

        `noise` is the residual-error generator, `forced_levels` optional
        dose levels (one per decision, for all patients) that replace the
        policy's, and `recorded_patients` the number of leading patients
        whose window-end states are returned. Returns dose levels (N, 6),
        day AUC24 (N, 3), episode return (N,) and, when recorded, the
        window-end states (6, 3) of patient 0.
        """
        count = self.patient_count
        decisions = workload.DECISIONS_PER_EPISODE
        self.state.fill(0.0)
        previous_dose = np.zeros(count)
        trough = np.zeros(count)
        trough_available = np.zeros(count)
        trough_hours = np.zeros(count)
        peak = np.zeros(count)
        peak_available = np.zeros(count)
        peak_hours = np.zeros(count)
        auc_at_day_start = np.zeros(count)
        dose_levels = np.empty((count, decisions), dtype=np.int64)
        day_auc = np.empty((count, decisions // 2))
        episode_return = np.zeros(count)
        window_end_states = []

        for decision in range(decisions):
            start_hours = decision * workload.DECISION_INTERVAL_HOURS

            # Observe and decide.
            features = (
                start_hours,
                previous_dose,
                trough,
                trough_available,
                np.where(trough_available > 0, start_hours - trough_hours, 0.0),
                peak,
                peak_available,
                np.where(peak_available > 0, start_hours - peak_hours, 0.0),
            )
            if forced_levels is None:
                levels = self._choose_levels(features)
            else:
                levels = np.full(count, forced_levels[decision], dtype=np.int64)
            dose_levels[:, decision] = levels

            # Dose actuator: level * 250 mg, at most 3000 mg, infused over
            # max(1 h, dose / 600 mg/h) rounded up to the grid.
            dose = np.minimum(
                levels * workload.DOSE_INCREMENT_MILLIGRAMS, workload.MAX_DOSE_MILLIGRAMS
            )
            infusion_steps = workload.INFUSION_STEPS_BY_LEVEL[levels]
            infusion_rate = dose / (infusion_steps * workload.GRID_STEP_HOURS)
            peak_step = workload.PEAK_STEP_BY_LEVEL[levels]
            draws = workload.draw_decision_noise(noise, count)

            # Simulate 12 h on the 0.25 h grid with draws along the way.
            for step in range(1, workload.STEPS_PER_DECISION + 1):
                if step <= workload.MAX_INFUSION_STEPS:
                    np.multiply(infusion_rate, infusion_steps >= step, out=self.step_rate)
                elif step == workload.MAX_INFUSION_STEPS + 1:
                    self.step_rate.fill(0.0)
                self._advance()
                if step in workload.PEAK_STEPS:
                    drawn = peak_step == step
                    if drawn.any():
                        concentration = self.state[0, drawn] / self.central_volume[drawn]
                        peak[drawn] = workload.measured_level(
                            concentration, draws[0, drawn], draws[1, drawn]
                        )
                        peak_available[drawn] = 1.0
                        peak_hours[drawn] = start_hours + step * workload.GRID_STEP_HOURS
                if step == workload.TROUGH_STEP and decision < decisions - 1:
                    concentration = self.state[0] / self.central_volume
                    trough = workload.measured_level(concentration, draws[2], draws[3])
                    trough_available.fill(1.0)
                    trough_hours.fill(start_hours + step * workload.GRID_STEP_HOURS)

            # Reward: -0.5 per true trough above 20 mg/L (just before the
            # next dose, or at 72 h), +1 per day with AUC24 in range.
            true_trough = self.state[0] / self.central_volume
            episode_return -= workload.TOXIC_TROUGH_PENALTY * (
                true_trough > workload.TOXIC_TROUGH_MILLIGRAMS_PER_LITER
            )
            if decision % 2 == 1:
                auc = self.state[2]
                day_auc[:, decision // 2] = auc - auc_at_day_start
                auc_at_day_start = auc.copy()
                episode_return += workload.in_target_range(day_auc[:, decision // 2])
            previous_dose = dose
            if recorded_patients:
                window_end_states.append(self.state[:, 0].copy())

        result = {
            "dose_levels": dose_levels,
            "day_auc": day_auc,
            "episode_return": episode_return,
        }
        if recorded_patients:
            result["window_end_states"] = np.array(window_end_states)
        return result
