#!/usr/bin/env python3
"""Write reference INR trajectories for the warfarin tests.

Run from the repository root:  python3 scripts/reference_warfarin.py
Needs numpy and scipy only. Writes Tests/Fixtures/warfarin/reference.json.

Model: Hamberg AK et al., Clin Pharmacol Ther 2007;81:529-538. S-warfarin
follows two-compartment oral PK and inhibits coagulation-factor synthesis
by an Emax model. A 6-compartment and a 1-compartment transit chain carry
that inhibition, and the INR follows from the product of the chain ends.
The right-hand side below is written out independently of
the Swift code, with the conventions documented in
Docs/environments/warfarin.md: S-warfarin dose = racemic dose x 0.5, no
further bioavailability factor (CL, V1, Q, V2 are apparent oral values),
and a per-compartment transit rate k = 1 / MTT.

Reference curves come from scipy.integrate.solve_ivp (Radau, rtol 1e-10,
atol 1e-12), integrated piecewise between daily doses so that no step
straddles a dose. The file also records, for several fixed steps, the
maximum INR error of a plain numpy RK4 against the reference. The Swift
tests check their own RK4 at the chosen step against the same curves.
"""

import json
import os

import numpy as np
import scipy
from scipy.integrate import solve_ivp

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "warfarin")
RTOL = 1e-10
ATOL = 1e-12

# Typical values (Hamberg 2007, Tables 2 and 4).
TYPICAL = {
    "absorptionRatePerHour": 2.0,
    "clearanceLitersPerHour": 0.314,
    "centralVolumeLiters": 13.8,
    "intercompartmentalClearanceLitersPerHour": 0.131,
    "peripheralVolumeLiters": 6.59,
    "hillCoefficient": 0.424,
    "fastChainMeanTransitTimeHours": 11.6,
    "slowChainMeanTransitTimeHours": 120.0,
    "maximumINRIncrease": 20.0,
    "inrExponent": 3.61,
    "baselineINR": 1.0,
}
EC50_BY_VKORC1 = {"GG": 4.61, "GA": 3.02, "AA": 2.20}
FAST_CHAIN_LENGTH = 6

# Racemic daily doses (mg) of the fixed regimen: a 10 mg start, 5 mg
# maintenance, two missed days and a restart at 7.5 mg.
REGIMEN_MILLIGRAMS = [10, 10] + [5] * 16 + [0, 0] + [7.5] * 8
DAYS = len(REGIMEN_MILLIGRAMS)


def parameters(vkorc1, age_years=71.0):
    p = dict(TYPICAL)
    p["clearanceLitersPerHour"] *= 1 - 0.0091 * (age_years - 71)
    p["ec50MilligramsPerLiter"] = EC50_BY_VKORC1[vkorc1]
    return p


def right_hand_side(p):
    ka = p["absorptionRatePerHour"]
    k10 = p["clearanceLitersPerHour"] / p["centralVolumeLiters"]
    k12 = p["intercompartmentalClearanceLitersPerHour"] / p["centralVolumeLiters"]
    k21 = p["intercompartmentalClearanceLitersPerHour"] / p["peripheralVolumeLiters"]
    fast = 1.0 / p["fastChainMeanTransitTimeHours"]
    slow = 1.0 / p["slowChainMeanTransitTimeHours"]
    gamma = p["hillCoefficient"]
    ec50_gamma = p["ec50MilligramsPerLiter"] ** gamma

    def rhs(_t, x):
        depot, central, peripheral = x[0], x[1], x[2]
        chain = x[3:3 + FAST_CHAIN_LENGTH]
        slow_end = x[3 + FAST_CHAIN_LENGTH]
        concentration = max(central, 0.0) / p["centralVolumeLiters"]
        c_gamma = concentration ** gamma
        effect = c_gamma / (ec50_gamma + c_gamma)
        dx = np.empty_like(x)
        dx[0] = -ka * depot
        dx[1] = ka * depot - (k10 + k12) * central + k21 * peripheral
        dx[2] = k12 * central - k21 * peripheral
        dx[3] = fast * (1 - effect - chain[0])
        for i in range(1, FAST_CHAIN_LENGTH):
            dx[3 + i] = fast * (chain[i - 1] - chain[i])
        dx[3 + FAST_CHAIN_LENGTH] = slow * (1 - effect - slow_end)
        return dx

    return rhs


def inr(p, x):
    product = x[3 + FAST_CHAIN_LENGTH - 1] * x[3 + FAST_CHAIN_LENGTH]
    return p["baselineINR"] + p["maximumINRIncrease"] * max(1 - product, 0.0) ** p["inrExponent"]


def initial_state():
    return np.array([0.0, 0.0, 0.0] + [1.0] * (FAST_CHAIN_LENGTH + 1))


def reference_curve(p):
    """INR and concentration every hour from 0 to DAYS x 24 h."""
    rhs = right_hand_side(p)
    x = initial_state()
    inrs = [inr(p, x)]
    concentrations = [0.0]
    for day, racemic in enumerate(REGIMEN_MILLIGRAMS):
        x = x.copy()
        x[0] += 0.5 * racemic
        hours = np.arange(1, 25, dtype=float)
        solution = solve_ivp(
            rhs, (0.0, 24.0), x, method="Radau", t_eval=hours, rtol=RTOL, atol=ATOL)
        assert solution.success, solution.message
        for column in solution.y.T:
            inrs.append(inr(p, column))
            concentrations.append(column[1] / p["centralVolumeLiters"])
        x = solution.y[:, -1]
    return inrs, concentrations


def rk4_curve(p, step_hours):
    """Hourly INR of a fixed-step RK4 with states clamped at 0."""
    rhs = right_hand_side(p)
    x = initial_state()
    steps_per_hour = int(round(1 / step_hours))
    inrs = [inr(p, x)]
    for racemic in REGIMEN_MILLIGRAMS:
        x[0] += 0.5 * racemic
        for _hour in range(24):
            for _ in range(steps_per_hour):
                h = step_hours
                k1 = rhs(0, x)
                k2 = rhs(0, x + 0.5 * h * k1)
                k3 = rhs(0, x + 0.5 * h * k2)
                k4 = rhs(0, x + h * k3)
                x = np.maximum(x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), 0.0)
            inrs.append(inr(p, x))
    return inrs


def main():
    os.makedirs(FIXTURES, exist_ok=True)
    patients = []
    step_errors = {}
    for vkorc1 in ["GG", "GA", "AA"]:
        p = parameters(vkorc1)
        inrs, concentrations = reference_curve(p)
        patients.append({
            "vkorc1": vkorc1,
            "cyp2c9": "*1/*1",
            "ageYears": 71.0,
            "parameters": p,
            "inrHourly": inrs,
            "concentrationMilligramsPerLiterHourly": concentrations,
        })
        for step in [1.0, 0.5, 0.25]:
            errors = np.abs(np.array(rk4_curve(p, step)) - np.array(inrs))
            key = f"{step:g}"
            step_errors[key] = max(step_errors.get(key, 0.0), float(errors.max()))
    payload = {
        "description": (
            "Hamberg 2007 warfarin model, typical 71-year-old CYP2C9 *1/*1 patients of each "
            "VKORC1 -1639 genotype, racemic daily doses at t = 24 k h, INR every hour"),
        "integrator": "solve_ivp Radau rtol 1e-10 atol 1e-12, piecewise between doses",
        "regimenRacemicMilligrams": REGIMEN_MILLIGRAMS,
        "fastChainLength": FAST_CHAIN_LENGTH,
        "sEnantiomerFraction": 0.5,
        "transitRate": "1 / MTT per compartment",
        "numpyRK4MaximumINRErrorByStepHours": step_errors,
        "patients": patients,
        "generator": (
            f"scripts/reference_warfarin.py (numpy {np.__version__}, scipy {scipy.__version__})"),
    }
    with open(os.path.join(FIXTURES, "reference.json"), "w") as handle:
        json.dump(payload, handle, indent=1)
        handle.write("\n")
    print(json.dumps(step_errors, indent=1))


if __name__ == "__main__":
    main()
