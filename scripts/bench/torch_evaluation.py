"""PyTorch CPU evaluation of the vancomycin workload.

The same structure as `numpy_evaluation.py` with torch tensors: float64
PK state in structure-of-arrays layout, a float32 MLP, all under
`torch.no_grad()`. Patients, policy weights and measurement noise come
from NumPy (zero-copy through `torch.from_numpy`), so both programs see
identical inputs.
"""

import numpy as np
import torch

import vancomycin_workload as workload


class TorchEvaluation:
    """Evaluation of one policy on a fixed batch of sampled patients."""

    name = "torch"

    def __init__(self, patients, weights):
        self.patients = patients
        self.patient_count = patients["clearance_liters_per_hour"].shape[0]
        self.weights = {name: torch.from_numpy(value) for name, value in weights.items()}
        self.central_volume = torch.from_numpy(patients["central_volume_liters"])
        self.covariates = torch.from_numpy(
            np.stack(workload.covariate_columns(patients), axis=1).astype(np.float32)
        )
        self.observation_mean = torch.from_numpy(workload.OBSERVATION_MEAN)
        self.observation_std = torch.from_numpy(workload.OBSERVATION_STD)
        self.infusion_steps_by_level = torch.from_numpy(workload.INFUSION_STEPS_BY_LEVEL)
        self.peak_step_by_level = torch.from_numpy(workload.PEAK_STEP_BY_LEVEL)
        self.transition = None  # Phi, (3, 3, N)
        self.infusion_response = None  # Gamma, (3, N)

        count = self.patient_count
        self.observations = torch.empty((count, workload.OBSERVATION_SIZE), dtype=torch.float32)
        self.hidden1 = torch.empty((count, workload.HIDDEN_SIZE), dtype=torch.float32)
        self.hidden2 = torch.empty((count, workload.HIDDEN_SIZE), dtype=torch.float32)
        self.logits = torch.empty((count, workload.DOSE_LEVEL_COUNT), dtype=torch.float32)
        self.state = torch.empty((3, count), dtype=torch.float64)
        self.next_state = torch.empty((3, count), dtype=torch.float64)
        self.step_rate = torch.empty(count, dtype=torch.float64)
        self.product = torch.empty(count, dtype=torch.float64)

    @staticmethod
    def versions():
        """Return the versions of the numerical libraries in use."""
        return {
            "torch": torch.__version__,
            "numpy": np.__version__,
            "torch_parallel_backend": torch.__config__.parallel_info().splitlines()[-1],
        }

    @torch.no_grad()
    def reset(self):
        """Compute Phi and Gamma of every patient from exp(M * 0.25 h)."""
        matrices = torch.from_numpy(workload.augmented_system_matrices(self.patients))
        exponentials = torch.linalg.matrix_exp(matrices)
        self.transition = exponentials[:, :3, :3].permute(1, 2, 0).contiguous()
        self.infusion_response = exponentials[:, :3, 3].T.contiguous()

    def _choose_levels(self, features):
        """Run the MLP on normalised observations; return argmax levels."""
        observations = self.observations
        observations[:, :6] = self.covariates
        for column, values in enumerate(features, start=6):
            observations[:, column] = values
        observations -= self.observation_mean
        observations /= self.observation_std

        weights = self.weights
        torch.addmm(weights["b1"], observations, weights["W1"], out=self.hidden1)
        torch.tanh(self.hidden1, out=self.hidden1)
        torch.addmm(weights["b2"], self.hidden1, weights["W2"], out=self.hidden2)
        torch.tanh(self.hidden2, out=self.hidden2)
        torch.addmm(weights["b3"], self.hidden2, weights["W3"], out=self.logits)
        return torch.argmax(self.logits, dim=1)

    def _advance(self):
        """Advance every patient one grid step: x <- Phi x + Gamma rate."""
        state, next_state, product = self.state, self.next_state, self.product
        for row in range(3):
            target = next_state[row]
            torch.mul(self.transition[row, 0], state[0], out=target)
            for column in (1, 2):
                torch.mul(self.transition[row, column], state[column], out=product)
                target += product
            torch.mul(self.infusion_response[row], self.step_rate, out=product)
            target += product
        self.state, self.next_state = next_state, state

    @staticmethod
    def _measured_level(concentration, proportional_draw, additive_draw):
        """Apply the residual error; a negative result is reported as 0 mg/L."""
        measured = concentration * (
            1.0 + workload.RESIDUAL_PROPORTIONAL_FRACTION * proportional_draw
        )
        measured += workload.RESIDUAL_ADDITIVE_MILLIGRAMS_PER_LITER * additive_draw
        return measured.clamp_(min=0.0)

    @torch.no_grad()
    def run_episode(self, noise, forced_levels=None, recorded_patients=0):
        """Run one 72 h episode of every patient from an empty body.

        Arguments and result as `NumpyEvaluation.run_episode`; the arrays
        returned are NumPy arrays.
        """
        count = self.patient_count
        decisions = workload.DECISIONS_PER_EPISODE
        float64 = torch.float64
        self.state.zero_()
        previous_dose = torch.zeros(count, dtype=float64)
        trough = torch.zeros(count, dtype=float64)
        trough_available = torch.zeros(count, dtype=float64)
        trough_hours = torch.zeros(count, dtype=float64)
        peak = torch.zeros(count, dtype=float64)
        peak_available = torch.zeros(count, dtype=float64)
        peak_hours = torch.zeros(count, dtype=float64)
        auc_at_day_start = torch.zeros(count, dtype=float64)
        dose_levels = torch.empty((count, decisions), dtype=torch.int64)
        day_auc = torch.empty((count, decisions // 2), dtype=float64)
        episode_return = torch.zeros(count, dtype=float64)
        window_end_states = []
        target_low, target_high = workload.AUC_TARGET_RANGE_MILLIGRAM_HOURS_PER_LITER

        for decision in range(decisions):
            start_hours = decision * workload.DECISION_INTERVAL_HOURS

            # Observe and decide.
            features = (
                start_hours,
                previous_dose,
                trough,
                trough_available,
                torch.where(trough_available > 0, start_hours - trough_hours, 0.0),
                peak,
                peak_available,
                torch.where(peak_available > 0, start_hours - peak_hours, 0.0),
            )
            if forced_levels is None:
                levels = self._choose_levels(features)
            else:
                levels = torch.full((count,), forced_levels[decision], dtype=torch.int64)
            dose_levels[:, decision] = levels

            # Dose actuator: level * 250 mg, at most 3000 mg, infused over
            # max(1 h, dose / 600 mg/h) rounded up to the grid.
            dose = torch.clamp(
                levels.to(float64) * workload.DOSE_INCREMENT_MILLIGRAMS,
                max=workload.MAX_DOSE_MILLIGRAMS,
            )
            infusion_steps = self.infusion_steps_by_level[levels]
            infusion_rate = dose / (infusion_steps * workload.GRID_STEP_HOURS)
            peak_step = self.peak_step_by_level[levels]
            draws = torch.from_numpy(workload.draw_decision_noise(noise, count))

            # Simulate 12 h on the 0.25 h grid with draws along the way.
            for step in range(1, workload.STEPS_PER_DECISION + 1):
                if step <= workload.MAX_INFUSION_STEPS:
                    torch.mul(infusion_rate, infusion_steps >= step, out=self.step_rate)
                elif step == workload.MAX_INFUSION_STEPS + 1:
                    self.step_rate.zero_()
                self._advance()
                if step in workload.PEAK_STEPS:
                    drawn = peak_step == step
                    if bool(drawn.any()):
                        concentration = self.state[0, drawn] / self.central_volume[drawn]
                        peak[drawn] = self._measured_level(
                            concentration, draws[0, drawn], draws[1, drawn]
                        )
                        peak_available[drawn] = 1.0
                        peak_hours[drawn] = start_hours + step * workload.GRID_STEP_HOURS
                if step == workload.TROUGH_STEP and decision < decisions - 1:
                    concentration = self.state[0] / self.central_volume
                    trough = self._measured_level(concentration, draws[2], draws[3])
                    trough_available.fill_(1.0)
                    trough_hours.fill_(start_hours + step * workload.GRID_STEP_HOURS)

            # Reward: -0.5 per true trough above 20 mg/L (just before the
            # next dose, or at 72 h), +1 per day with AUC24 in range.
            true_trough = self.state[0] / self.central_volume
            episode_return -= workload.TOXIC_TROUGH_PENALTY * (
                true_trough > workload.TOXIC_TROUGH_MILLIGRAMS_PER_LITER
            )
            if decision % 2 == 1:
                auc = self.state[2]
                today = auc - auc_at_day_start
                day_auc[:, decision // 2] = today
                auc_at_day_start = auc.clone()
                episode_return += ((today >= target_low) & (today <= target_high)).to(float64)
            previous_dose = dose
            if recorded_patients:
                window_end_states.append(self.state[:, 0].clone())

        result = {
            "dose_levels": dose_levels.numpy(),
            "day_auc": day_auc.numpy(),
            "episode_return": episode_return.numpy(),
        }
        if recorded_patients:
            result["window_end_states"] = torch.stack(window_end_states).numpy()
        return result
