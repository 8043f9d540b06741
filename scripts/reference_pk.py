#!/usr/bin/env python3
"""Write reference values for the TitratePKPD tests to Tests/Fixtures/pk/.

Run from the repository root:  python3 scripts/reference_pk.py
Needs numpy and scipy only. Outputs:
  expm_random.json            scipy.linalg.expm of seeded random matrices
  two_compartment_infusions.json   vancomycin-like 2-compartment infusions
  three_compartment_effect_site.json   3-compartment model with effect site
  first_order_absorption.json      2-compartment oral model with a depot

Concentration curves come from scipy.integrate.solve_ivp (Radau,
rtol 1e-10, atol 1e-12) on the right-hand side written out below,
independently of the Swift matrices, integrated piecewise between dose
events so that no step straddles a discontinuity.
"""

import json
import os

import numpy as np
import scipy
from scipy.integrate import solve_ivp
from scipy.linalg import expm

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "pk")
RTOL = 1e-10
ATOL = 1e-12


def write(name, payload):
    payload["generator"] = (
        f"scripts/reference_pk.py (numpy {np.__version__}, scipy {scipy.__version__})"
    )
    with open(os.path.join(FIXTURES, name), "w") as handle:
        json.dump(payload, handle, indent=1)
        handle.write("\n")


def expm_cases():
    rng = np.random.default_rng(20240611)
    cases = []
    # Sizes 2..8; scales from well inside the degree-3 Pade range to norms
    # that need several squarings.
    for dimension, scale in [(2, 0.005), (3, 0.1), (4, 0.8), (5, 1.5), (6, 4.0),
                             (8, 30.0), (3, 200.0)]:
        matrix = rng.standard_normal((dimension, dimension)) * scale
        if dimension == 3 and scale == 200.0:
            # A stiff compartment-like matrix: negative diagonal, decays.
            matrix = -np.abs(matrix) + np.diag(-np.abs(np.diag(matrix)) * 2)
        cases.append({
            "dimension": dimension,
            "matrix": matrix.ravel().tolist(),
            "exponential": expm(matrix).ravel().tolist(),
        })
    write("expm_random.json", {"cases": cases})


def right_hand_side(p):
    """dx/dt for state (depot?, central, peripherals..., effect?, auc)."""
    has_depot = p.get("absorptionRatePerHour") is not None
    has_effect = p.get("effectSiteRatePerHour") is not None
    clearances = p["intercompartmentalClearancesLitersPerHour"]
    volumes = p["peripheralVolumesLiters"]
    v1 = p["centralVolumeLiters"]

    def rhs(_t, x, rate):
        i = 0
        dx = np.zeros_like(x)
        if has_depot:
            depot = x[0]
            dx[0] = -p["absorptionRatePerHour"] * depot + rate
            i = 1
        central = x[i]
        dcentral = -p["clearanceLitersPerHour"] / v1 * central
        if has_depot:
            dcentral += p["absorptionRatePerHour"] * x[0]
        else:
            dcentral += rate
        for j, (q, v) in enumerate(zip(clearances, volumes)):
            amount = x[i + 1 + j]
            flow = q * (central / v1 - amount / v)
            dcentral -= flow
            dx[i + 1 + j] = flow
        dx[i] = dcentral
        k = i + 1 + len(volumes)
        if has_effect:
            dx[k] = p["effectSiteRatePerHour"] * (central / v1 - x[k])
            k += 1
        dx[k] = central / v1
        return dx

    size = 2 + len(volumes)  # central, peripherals, AUC
    if has_depot:
        size += 1
    if has_effect:
        size += 1
    return rhs, size


def simulate(p, doses, step_hours, end_hours):
    """Returns the state at every grid time 0, h, ..., end (inclusive)."""
    rhs, size = right_hand_side(p)
    steps = int(round(end_hours / step_hours))
    grid = np.arange(steps + 1) * step_hours
    events = {0.0, end_hours}
    for dose in doses:
        events.add(dose["timeHours"])
        events.add(dose["timeHours"] + dose["durationHours"])
    events = sorted(e for e in events if e <= end_hours)

    x = np.zeros(size)
    states = np.zeros((steps + 1, size))
    for start, stop in zip(events[:-1], events[1:]):
        rate = 0.0
        for dose in doses:
            begin = dose["timeHours"]
            if dose["durationHours"] == 0:
                if abs(begin - start) < 1e-12:
                    index = bolus_index(p, dose["into"])
                    x[index] += dose["amountMilligrams"]
            elif begin <= start + 1e-12 and start < begin + dose["durationHours"] - 1e-12:
                rate += dose["amountMilligrams"] / dose["durationHours"]
        mask = (grid >= start - 1e-12) & (grid <= stop + 1e-12)
        solution = solve_ivp(
            rhs, (start, stop), x, method="Radau", rtol=RTOL, atol=ATOL,
            t_eval=grid[mask], args=(rate,))
        assert solution.success, solution.message
        states[mask] = solution.y.T
        x = solution.y[:, -1].copy()
    return grid, states


def bolus_index(p, component):
    has_depot = p.get("absorptionRatePerHour") is not None
    if component == "depot":
        return 0
    assert component == "central"
    return 1 if has_depot else 0


def curve_case(name, description, patients, doses, step_hours, end_hours):
    results = []
    for p in patients:
        grid, states = simulate(p, doses, step_hours, end_hours)
        has_depot = p.get("absorptionRatePerHour") is not None
        central = states[:, 1 if has_depot else 0]
        entry = {
            "parameters": p,
            "centralConcentrationMilligramsPerLiter": (central / p["centralVolumeLiters"]).tolist(),
            "centralAUCMilligramHoursPerLiter": states[:, -1].tolist(),
        }
        if p.get("effectSiteRatePerHour") is not None:
            entry["effectSiteConcentrationMilligramsPerLiter"] = states[:, -2].tolist()
        results.append(entry)
    write(name, {
        "description": description,
        "integrator": f"solve_ivp Radau rtol {RTOL} atol {ATOL}",
        "stepHours": step_hours,
        "endHours": end_hours,
        "timesHours": grid.tolist(),
        "doses": doses,
        "patients": results,
    })


def two_compartment():
    typical = {"clearanceLitersPerHour": 4.5, "centralVolumeLiters": 58.4,
               "intercompartmentalClearancesLitersPerHour": [6.5],
               "peripheralVolumesLiters": [38.4]}
    low = dict(typical, clearanceLitersPerHour=1.2, centralVolumeLiters=40.0)
    high = dict(typical, clearanceLitersPerHour=11.0, peripheralVolumesLiters=[90.0])
    doses = [{"timeHours": 0.0, "durationHours": 1.5, "amountMilligrams": 1500.0,
              "into": "central"}]
    for start in (12.0, 24.0, 36.0):
        doses.append({"timeHours": start, "durationHours": 1.0,
                      "amountMilligrams": 1000.0, "into": "central"})
    curve_case(
        "two_compartment_infusions.json",
        "2-compartment IV (typical CL 4.5 L/h, V1 58.4 L, Q 6.5 L/h, V2 38.4 L and two"
        " variants): 1500 mg over 1.5 h at 0 h, then 1000 mg over 1 h q12h",
        [typical, low, high], doses, 0.25, 48.0)


def three_compartment_effect_site():
    # Propofol-like magnitudes in hours (V1 4.27 L, V2 18.9 L, V3 238 L,
    # CL 113.4 L/h, Q2 77.4 L/h, Q3 50.16 L/h, ke0 27.36 /h).
    patient = {"clearanceLitersPerHour": 113.4, "centralVolumeLiters": 4.27,
               "intercompartmentalClearancesLitersPerHour": [77.4, 50.16],
               "peripheralVolumesLiters": [18.9, 238.0],
               "effectSiteRatePerHour": 27.36}
    slower = dict(patient, clearanceLitersPerHour=80.0, effectSiteRatePerHour=12.0)
    doses = [
        {"timeHours": 0.0, "durationHours": 0.0, "amountMilligrams": 140.0, "into": "central"},
        {"timeHours": 0.0, "durationHours": 1.0, "amountMilligrams": 600.0, "into": "central"},
        {"timeHours": 1.0, "durationHours": 1.0, "amountMilligrams": 400.0, "into": "central"},
    ]
    curve_case(
        "three_compartment_effect_site.json",
        "3-compartment IV with effect site: 140 mg bolus at 0 h, 600 mg/h for 1 h,"
        " 400 mg/h for 1 h, then washout to 3 h on a 1-minute grid",
        [patient, slower], doses, 1.0 / 60.0, 3.0)


def first_order_absorption():
    # Oral 2-compartment model with the magnitudes of S-warfarin (apparent
    # CL 0.314 L/h, V1 13.8 L, Q 0.131 L/h, V2 6.59 L, ka 2 /h).
    patient = {"clearanceLitersPerHour": 0.314, "centralVolumeLiters": 13.8,
               "intercompartmentalClearancesLitersPerHour": [0.131],
               "peripheralVolumesLiters": [6.59], "absorptionRatePerHour": 2.0}
    fast = dict(patient, absorptionRatePerHour=0.5, clearanceLitersPerHour=0.6)
    doses = [{"timeHours": 24.0 * day, "durationHours": 0.0, "amountMilligrams": 2.5,
              "into": "depot"} for day in range(4)]
    curve_case(
        "first_order_absorption.json",
        "2-compartment oral model with first-order absorption: 2.5 mg into the depot"
        " every 24 h for 4 days, 0.5-hour grid to 96 h",
        [patient, fast], doses, 0.5, 96.0)


if __name__ == "__main__":
    os.makedirs(FIXTURES, exist_ok=True)
    expm_cases()
    two_compartment()
    three_compartment_effect_site()
    first_order_absorption()
