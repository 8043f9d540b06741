#!/usr/bin/env python3
"""Write reference trajectories for the linear-kind environment tests.

Run from the repository root:  python3 scripts/reference_linear.py
Needs numpy and scipy only. Writes Tests/Fixtures/linear/reference.json.

Two definitions are covered, each with three patients and one fixed
regimen, residual error off (true concentrations only):

- Environments/pkpd/gentamicin.json: two-compartment model of Hodiamont
  et al. (Ther Drug Monit 2017), 30-min infusions. The model has no
  covariates, so the patients differ in weight (the dose is per kg) and in
  their CL and V1 random effects.
- Environments/pkpd/example_oral.json: one-compartment oral model with
  clearance on Cockcroft-Gault creatinine clearance (capped 10-150 mL/min)
  and age, volume per kg; the patients differ in their covariates.

The right-hand side is written out here independently of the Swift code
(which uses the matrix exponential). Each dosing event starts a new
solve_ivp call (DOP853, rtol 1e-10, atol 1e-12), and an infusion's end
splits its interval, so no step straddles a discontinuity. AUC is
integrated as an extra state. The concentration is reported at every grid
point of the environment's simulation step, as the left limit at a dose
time (the value just before an oral dose enters the depot).
"""

import json
import math
import os

import numpy as np
import scipy
from scipy.integrate import solve_ivp

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "linear")
RTOL = 1e-10
ATOL = 1e-12


def round_half_up(value, increment):
    """Deliverable dose: nearest multiple of the increment, ties upwards."""
    if increment <= 0:
        return value
    return max(math.floor(value / increment + 0.5) * increment, increment)


def simulate(rhs, state_size, doses, grid_hours, end_hours):
    """Integrate between events; return grid concentrations and final AUC.

    doses: list of (time h, amount mg, infusion h, target index); an
    infusion of 0 h is an instantaneous dose into the target state.
    rhs(t, x, rate) returns dx/dt with x[-1] the AUC; concentration(x) is
    x[1] / V1 for the models here, computed by the caller's closure.
    """
    events = sorted({0.0, end_hours} | {t for t, _, _, _ in doses}
                    | {t + d for t, _, d, _ in doses if d > 0})
    events = [t for t in events if t <= end_hours]
    grid = np.arange(0.0, end_hours + grid_hours / 2, grid_hours)
    x = np.zeros(state_size)
    samples = {}
    for start, stop in zip(events[:-1], events[1:]):
        for time, amount, duration, target in doses:
            if abs(time - start) < 1e-12 and duration == 0:
                # Record left limits at this instant before the dose.
                for g in grid:
                    if abs(g - start) < 1e-9 and round(g / grid_hours) not in samples:
                        samples[round(g / grid_hours)] = x.copy()
                x[target] += amount
        rate = sum(amount / duration for time, amount, duration, _ in doses
                   if duration > 0 and time <= start + 1e-12 and start < time + duration - 1e-12)
        inside = [g for g in grid if start - 1e-9 <= g <= stop + 1e-9]
        solution = solve_ivp(lambda t, y: rhs(t, y, rate), (start, stop), x, method="DOP853",
                             rtol=RTOL, atol=ATOL, t_eval=inside, dense_output=False)
        for g, column in zip(solution.t, solution.y.T):
            index = round(g / grid_hours)
            if index not in samples:
                samples[index] = column.copy()
        x = solution.y[:, -1].copy()
    return [samples[i] for i in range(len(grid))], x


def gentamicin_rhs(cl, v1, q, v2):
    def rhs(_, x, rate):
        central, peripheral = x[0], x[1]
        return [rate - (cl + q) / v1 * central + q / v2 * peripheral,
                q / v1 * central - q / v2 * peripheral,
                central / v1]
    return rhs


def gentamicin_cases():
    # Actions after the initial 7 mg/kg dose: (dose level mg/kg, interval h);
    # the last dose is not given (the episode ends at the end of its cycle).
    plan = [(5, 24), (7, 36), (4, 48), (3, 24)]
    patients = [
        {"weightKilograms": 79.2, "etas": [0.0, 0.0]},
        {"weightKilograms": 50.0, "etas": [-0.8, 0.3]},
        {"weightKilograms": 120.0, "etas": [0.6, -0.2]},
    ]
    cases = []
    for patient in patients:
        cl = 2.3 * math.exp(patient["etas"][0])
        v1 = 21.6 * math.exp(patient["etas"][1])
        q, v2 = 1.3, 10.2
        weight = patient["weightKilograms"]
        levels = [7] + [level for level, _ in plan[:-1]]
        amounts = [min(round_half_up(level * weight, 10), 1000) for level in levels]
        times = [0.0]
        for _, interval in plan:
            times.append(times[-1] + interval)
        end = times[-1]
        doses = [(t, a, 0.5, 0) for t, a in zip(times[:-1], amounts)]
        states, final = simulate(gentamicin_rhs(cl, v1, q, v2), 3, doses, 0.25, end)
        cases.append({
            "weightKilograms": weight, "etas": patient["etas"],
            "clearanceLitersPerHour": cl, "centralVolumeLiters": v1,
            "doseMilligrams": amounts, "doseTimesHours": times[:-1],
            "concentrationsMilligramsPerLiter": [s[0] / v1 for s in states],
            "cumulativeAUCMilligramHoursPerLiter": final[2],
        })
    return {"gridHours": 0.25, "actions": [[level, interval] for level, interval in plan],
            "cases": cases}


def cockcroft_gault(age, weight, creatinine, female):
    value = (140 - age) * weight / (72 * creatinine)
    return 0.85 * value if female else value


def oral_rhs(cl, v, ka, _bioavailability):
    def rhs(_, x, rate):
        depot, central = x[0], x[1]
        return [-ka * depot, ka * depot - cl / v * central, central / v]
    return rhs


def oral_cases():
    plan = [(300, 12), (100, 12), (400, 12), (200, 12), (200, 12), (100, 12)]
    patients = [
        {"ageYears": 30.0, "weightKilograms": 60.0, "female": 0,
         "serumCreatinineMilligramsPerDeciliter": 0.8},
        {"ageYears": 75.0, "weightKilograms": 90.0, "female": 1,
         "serumCreatinineMilligramsPerDeciliter": 1.6},
        {"ageYears": 50.0, "weightKilograms": 75.0, "female": 0,
         "serumCreatinineMilligramsPerDeciliter": 0.3},
    ]
    bioavailability = 0.8
    cases = []
    for patient in patients:
        crcl = cockcroft_gault(patient["ageYears"], patient["weightKilograms"],
                               patient["serumCreatinineMilligramsPerDeciliter"],
                               patient["female"] == 1)
        crcl = min(max(crcl, 10.0), 150.0)
        cl = 5.0 * (crcl / 100.0) ** 0.75 * math.exp(-0.005 * (patient["ageYears"] - 50))
        v = 0.8 * patient["weightKilograms"]
        ka = 1.2
        amounts = [200] + [dose for dose, _ in plan[:-1]]
        times = [0.0]
        for _, interval in plan:
            times.append(times[-1] + interval)
        doses = [(t, a * bioavailability, 0.0, 0) for t, a in zip(times[:-1], amounts)]
        states, final = simulate(oral_rhs(cl, v, ka, bioavailability), 3, doses, 0.5, times[-1])
        cases.append(dict(patient, **{
            "creatinineClearanceMillilitersPerMinute": crcl,
            "clearanceLitersPerHour": cl, "centralVolumeLiters": v,
            "doseMilligrams": amounts, "doseTimesHours": times[:-1],
            "concentrationsMilligramsPerLiter": [s[1] / v for s in states],
            "cumulativeAUCMilligramHoursPerLiter": final[2],
        }))
    return {"gridHours": 0.5, "actions": [[dose, interval] for dose, interval in plan],
            "cases": cases}


def main():
    os.makedirs(FIXTURES, exist_ok=True)
    reference = {
        "generator": "scripts/reference_linear.py",
        "scipy": scipy.__version__,
        "solver": f"solve_ivp DOP853 rtol {RTOL} atol {ATOL}, restarted at every dose and "
                  "infusion end",
        "gentamicin": gentamicin_cases(),
        "example_oral": oral_cases(),
    }
    path = os.path.join(FIXTURES, "reference.json")
    with open(path, "w") as handle:
        json.dump(reference, handle, indent=1)
        handle.write("\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
