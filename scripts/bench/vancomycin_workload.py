"""Vancomycin dosing workload shared by the benchmark programs.

The patients, dose actuator, measurement schedule, observation layout and
policy shape follow the Titrate vancomycin environment:

- PK model: two-compartment IV vancomycin of Goti et al., Ther Drug Monit
  2018;40(2):212-221, doi:10.1097/FTD.0000000000000490. CL = 4.5 (CrCl/120)^0.8
  0.7^HD L/h, V1 = 58.4 (WT/70) 0.5^HD L, Q = 6.5 L/h, V2 = 38.4 L (not scaled
  by weight), log-normal between-subject variability with omega^2 = ln(1 + CV^2).
- CrCl by Cockcroft-Gault (Nephron 1976;16:31), capped at 150 mL/min, with
  SCr below 1 mg/dL raised to 1 in patients older than 60 y (Goti's rule).
- Residual error of a measured level: C (1 + 0.227 e1) + 3.4 e2, e ~ N(0, 1).

Patients are sampled with NumPy in every program, so the NumPy and PyTorch
evaluations see the same patients and the same measurement noise.
"""

import itertools

import numpy as np

# Time grid and episode.
GRID_STEP_HOURS = 0.25
DECISION_INTERVAL_HOURS = 12.0
STEPS_PER_DECISION = 48
DECISIONS_PER_EPISODE = 6
EPISODE_HOURS = DECISION_INTERVAL_HOURS * DECISIONS_PER_EPISODE

# Dose actuator: level i is i * 250 mg, infused at no more than 600 mg/h
# (10 mg/min) and over no less than 1 h, rounded up to whole grid steps.
DOSE_LEVEL_COUNT = 13
DOSE_INCREMENT_MILLIGRAMS = 250.0
MAX_DOSE_MILLIGRAMS = 3000.0
MAX_INFUSION_RATE_MILLIGRAMS_PER_HOUR = 600.0
MIN_INFUSION_STEPS = 4  # 1 h on the 0.25 h grid


def infusion_steps_for_level(level):
    """Return the grid steps of the infusion of dose level `level` (0-12)."""
    dose_milligrams = int(DOSE_INCREMENT_MILLIGRAMS) * level
    milligrams_per_step = int(MAX_INFUSION_RATE_MILLIGRAMS_PER_HOUR * GRID_STEP_HOURS)
    # Integer ceiling division keeps 750 mg / 150 mg at exactly 5 steps.
    return max(MIN_INFUSION_STEPS, -(-dose_milligrams // milligrams_per_step))


INFUSION_STEPS_BY_LEVEL = np.array(
    [infusion_steps_for_level(level) for level in range(DOSE_LEVEL_COUNT)], dtype=np.int64
)
MAX_INFUSION_STEPS = int(INFUSION_STEPS_BY_LEVEL.max())

# Measurement schedule. A peak is drawn 1 h after the end of each infusion,
# but none after a 0 mg dose. A trough is drawn 0.5 h before each dose from
# the second on.
PEAK_DELAY_STEPS = 4
NO_PEAK_STEP = -1
PEAK_STEP_BY_LEVEL = np.where(
    np.arange(DOSE_LEVEL_COUNT) > 0, INFUSION_STEPS_BY_LEVEL + PEAK_DELAY_STEPS, NO_PEAK_STEP
).astype(np.int64)
PEAK_STEPS = sorted({int(step) for step in PEAK_STEP_BY_LEVEL if step > 0})
TROUGH_STEP = STEPS_PER_DECISION - 2  # 0.5 h before the next dose

# Goti 2018 population model.
CLEARANCE_TYPICAL_LITERS_PER_HOUR = 4.5
CLEARANCE_REFERENCE_CRCL_MILLILITERS_PER_MINUTE = 120.0
CLEARANCE_CRCL_EXPONENT = 0.8
CLEARANCE_HAEMODIALYSIS_FACTOR = 0.7
CENTRAL_VOLUME_TYPICAL_LITERS = 58.4
CENTRAL_VOLUME_REFERENCE_WEIGHT_KILOGRAMS = 70.0
CENTRAL_VOLUME_HAEMODIALYSIS_FACTOR = 0.5
INTERCOMPARTMENTAL_CLEARANCE_LITERS_PER_HOUR = 6.5
PERIPHERAL_VOLUME_TYPICAL_LITERS = 38.4
CLEARANCE_CV = 0.398
CENTRAL_VOLUME_CV = 0.816
PERIPHERAL_VOLUME_CV = 0.571
RESIDUAL_PROPORTIONAL_FRACTION = 0.227
RESIDUAL_ADDITIVE_MILLIGRAMS_PER_LITER = 3.4

# Covariate distributions (benchmark choices: the speed does not depend on
# them).
AGE_RANGE_YEARS = (18.0, 90.0)
WEIGHT_MEAN_KILOGRAMS = 80.0
WEIGHT_SD_KILOGRAMS = 15.0
WEIGHT_RANGE_KILOGRAMS = (40.0, 200.0)
FEMALE_PROBABILITY = 0.5
SERUM_CREATININE_MEDIAN_MILLIGRAMS_PER_DECILITER = 1.0
SERUM_CREATININE_CV = 0.40
# NOTE: the workload gives no haemodialysis prevalence, so every patient has
# HD = 0 and the HD factors above are never applied. Raise this to model HD.
HAEMODIALYSIS_PROBABILITY = 0.0
CRCL_CAP_MILLILITERS_PER_MINUTE = 150.0

# Reward of the training environment.
AUC_TARGET_RANGE_MILLIGRAM_HOURS_PER_LITER = (400.0, 600.0)
TOXIC_TROUGH_MILLIGRAMS_PER_LITER = 20.0
TOXIC_TROUGH_PENALTY = 0.5

# Observation layout and its fixed normalisation (rough population scales
# chosen for this benchmark, not fitted to data).
OBSERVATION_FEATURES = (
    ("age_years", 54.0, 21.0),
    ("weight_kilograms", 80.0, 15.0),
    ("female", 0.5, 0.5),
    ("serum_creatinine_milligrams_per_deciliter", 1.1, 0.45),
    ("crcl_milliliters_per_minute", 80.0, 35.0),
    ("haemodialysis", 0.0, 1.0),
    ("hours_since_start", 30.0, 20.0),
    ("previous_dose_milligrams", 1500.0, 900.0),
    ("trough_milligrams_per_liter", 10.0, 8.0),
    ("trough_available", 0.5, 0.5),
    ("hours_since_trough", 6.0, 6.0),
    ("peak_milligrams_per_liter", 25.0, 15.0),
    ("peak_available", 0.5, 0.5),
    ("hours_since_peak", 6.0, 6.0),
)
OBSERVATION_SIZE = len(OBSERVATION_FEATURES)
OBSERVATION_MEAN = np.array([f[1] for f in OBSERVATION_FEATURES], dtype=np.float32)
OBSERVATION_STD = np.array([f[2] for f in OBSERVATION_FEATURES], dtype=np.float32)

HIDDEN_SIZE = 64


def omega_squared(coefficient_of_variation):
    """Return the log-scale variance of a log-normal with this CV."""
    return np.log1p(coefficient_of_variation**2)


def cockcroft_gault_crcl(age_years, weight_kilograms, serum_creatinine, female):
    """Return CrCl in mL/min with Goti's SCr floor above 60 y and the 150 cap."""
    floored_creatinine = np.where(
        age_years > 60.0, np.maximum(serum_creatinine, 1.0), serum_creatinine
    )
    crcl = (140.0 - age_years) * weight_kilograms / (72.0 * floored_creatinine)
    crcl = np.where(female > 0.5, 0.85 * crcl, crcl)
    return np.minimum(crcl, CRCL_CAP_MILLILITERS_PER_MINUTE)


def _truncated_normal(generator, mean, sd, bounds, count):
    """Draw a normal truncated to `bounds` by redrawing the values outside."""
    values = generator.normal(mean, sd, count)
    outside = (values < bounds[0]) | (values > bounds[1])
    while outside.any():
        values[outside] = generator.normal(mean, sd, int(outside.sum()))
        outside = (values < bounds[0]) | (values > bounds[1])
    return values


def sample_patients(patient_count, seed):
    """Sample covariates and true PK parameters of `patient_count` patients.

    Returns a dict of float64 arrays of length `patient_count`: the six
    covariate columns of the observation and clearance_liters_per_hour,
    central_volume_liters, intercompartmental_clearance_liters_per_hour,
    peripheral_volume_liters.
    """
    generator = np.random.default_rng([seed, 0])
    age = generator.uniform(*AGE_RANGE_YEARS, patient_count)
    weight = _truncated_normal(
        generator,
        WEIGHT_MEAN_KILOGRAMS,
        WEIGHT_SD_KILOGRAMS,
        WEIGHT_RANGE_KILOGRAMS,
        patient_count,
    )
    female = (generator.random(patient_count) < FEMALE_PROBABILITY).astype(np.float64)
    creatinine_sigma = np.sqrt(omega_squared(SERUM_CREATININE_CV))
    creatinine = SERUM_CREATININE_MEDIAN_MILLIGRAMS_PER_DECILITER * np.exp(
        creatinine_sigma * generator.standard_normal(patient_count)
    )
    haemodialysis = (generator.random(patient_count) < HAEMODIALYSIS_PROBABILITY).astype(
        np.float64
    )
    crcl = cockcroft_gault_crcl(age, weight, creatinine, female)

    eta_clearance = np.sqrt(omega_squared(CLEARANCE_CV)) * generator.standard_normal(patient_count)
    eta_central = np.sqrt(omega_squared(CENTRAL_VOLUME_CV)) * generator.standard_normal(
        patient_count
    )
    eta_peripheral = np.sqrt(omega_squared(PERIPHERAL_VOLUME_CV)) * generator.standard_normal(
        patient_count
    )

    clearance = (
        CLEARANCE_TYPICAL_LITERS_PER_HOUR
        * (crcl / CLEARANCE_REFERENCE_CRCL_MILLILITERS_PER_MINUTE) ** CLEARANCE_CRCL_EXPONENT
        * CLEARANCE_HAEMODIALYSIS_FACTOR**haemodialysis
        * np.exp(eta_clearance)
    )
    central_volume = (
        CENTRAL_VOLUME_TYPICAL_LITERS
        * (weight / CENTRAL_VOLUME_REFERENCE_WEIGHT_KILOGRAMS)
        * CENTRAL_VOLUME_HAEMODIALYSIS_FACTOR**haemodialysis
        * np.exp(eta_central)
    )
    peripheral_volume = PERIPHERAL_VOLUME_TYPICAL_LITERS * np.exp(eta_peripheral)
    return {
        "age_years": age,
        "weight_kilograms": weight,
        "female": female,
        "serum_creatinine_milligrams_per_deciliter": creatinine,
        "crcl_milliliters_per_minute": crcl,
        "haemodialysis": haemodialysis,
        "clearance_liters_per_hour": clearance,
        "central_volume_liters": central_volume,
        "intercompartmental_clearance_liters_per_hour": np.full(
            patient_count, INTERCOMPARTMENTAL_CLEARANCE_LITERS_PER_HOUR
        ),
        "peripheral_volume_liters": peripheral_volume,
    }


def noise_generator(seed):
    """Return the measurement-noise stream, separate from the patient stream."""
    return np.random.default_rng([seed, 1])


def draw_decision_noise(generator, patient_count):
    """Draw the N(0, 1) residual-error draws of one decision window.

    Returns a (4, patient_count) float64 array: rows 0-1 are e1, e2 of the
    peak, rows 2-3 those of the trough. All four rows are drawn every window,
    used or not, so the stream does not depend on the doses.
    """
    return generator.standard_normal((4, patient_count))


def augmented_system_matrices(parameters):
    """Build exp-ready augmented matrices [[A, B], [0, 0]] * step, (N, 4, 4).

    State order: central amount A1 (mg), peripheral amount A2 (mg), AUC of the
    central concentration (mg*h/L), then the unit infusion input (1 mg/h).
    """
    clearance = parameters["clearance_liters_per_hour"]
    central = parameters["central_volume_liters"]
    intercompartmental = parameters["intercompartmental_clearance_liters_per_hour"]
    peripheral = parameters["peripheral_volume_liters"]
    matrices = np.zeros((clearance.shape[0], 4, 4))
    matrices[:, 0, 0] = -(clearance + intercompartmental) / central
    matrices[:, 0, 1] = intercompartmental / peripheral
    matrices[:, 0, 3] = 1.0
    matrices[:, 1, 0] = intercompartmental / central
    matrices[:, 1, 1] = -intercompartmental / peripheral
    matrices[:, 2, 0] = 1.0 / central
    return matrices * GRID_STEP_HOURS


def covariate_columns(patients):
    """Return the six covariate columns of the observation, in layout order."""
    return [patients[name] for name, _, _ in OBSERVATION_FEATURES[:6]]


def initial_policy_weights(seed):
    """Return float32 MLP weights (14-64-64-13) as a dict of NumPy arrays.

    Uses PyTorch's default `nn.Linear` initialisation, U(-1/sqrt(fan_in),
    1/sqrt(fan_in)) for weights and biases, from a NumPy stream. Weight
    matrices are stored (fan_in, fan_out) so a layer is `x @ W + b`.
    """
    generator = np.random.default_rng([seed, 2])
    sizes = [OBSERVATION_SIZE, HIDDEN_SIZE, HIDDEN_SIZE, DOSE_LEVEL_COUNT]
    weights = {}
    for layer, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes), start=1):
        bound = 1.0 / np.sqrt(fan_in)
        weights[f"W{layer}"] = generator.uniform(-bound, bound, (fan_in, fan_out)).astype(
            np.float32
        )
        weights[f"b{layer}"] = generator.uniform(-bound, bound, fan_out).astype(np.float32)
    return weights


def load_policy_weights(path):
    """Load W1, b1, W2, b2, W3, b3 (float32, `x @ W + b` layout) from an .npz."""
    with np.load(path) as archive:
        weights = {name: archive[name].astype(np.float32) for name in archive.files}
    expected = {
        "W1": (OBSERVATION_SIZE, HIDDEN_SIZE),
        "b1": (HIDDEN_SIZE,),
        "W2": (HIDDEN_SIZE, HIDDEN_SIZE),
        "b2": (HIDDEN_SIZE,),
        "W3": (HIDDEN_SIZE, DOSE_LEVEL_COUNT),
        "b3": (DOSE_LEVEL_COUNT,),
    }
    for name, shape in expected.items():
        if name not in weights:
            raise ValueError(f"{path}: missing array {name!r}; expected {sorted(expected)}")
        if weights[name].shape != shape:
            raise ValueError(
                f"{path}: array {name!r} has shape {weights[name].shape}, expected {shape}; "
                "store weights as (fan_in, fan_out)"
            )
    return weights


def measured_level(concentration, proportional_draw, additive_draw):
    """Apply the residual error; a negative result is reported as 0 mg/L."""
    measured = concentration * (1.0 + RESIDUAL_PROPORTIONAL_FRACTION * proportional_draw)
    measured += RESIDUAL_ADDITIVE_MILLIGRAMS_PER_LITER * additive_draw
    return np.maximum(measured, 0.0)


def in_target_range(day_auc):
    """Return 1.0 where a day's AUC24 lies in [400, 600] mg*h/L, else 0.0."""
    low, high = AUC_TARGET_RANGE_MILLIGRAM_HOURS_PER_LITER
    return ((day_auc >= low) & (day_auc <= high)).astype(np.float64)
