#!/usr/bin/env python3
"""Write reference propofol trajectories for the Swift propofol tests.

Run from the repository root:  python3 scripts/reference_propofol.py
Needs numpy and scipy only. Writes Tests/Fixtures/propofol/reference.json.

PK: Schnider TW et al., Anesthesiology 1998;88:1170-1182 (three
compartments, covariates age, weight, height and lean body mass by the
James formula), with the effect-site rate ke0 = 0.456 /min of Schnider TW
et al., Anesthesiology 1999;90:1502-1516. BIS: sigmoid Emax on the
effect-site concentration with the parameters of Bouillon TW et al.,
Anesthesiology 2004;100:1353-1372, at zero remifentanil.

The right-hand side is written out here in minutes and mg, independently of
the Swift code (which steps the same linear system exactly, in hours).
Reference curves come from scipy.integrate.solve_ivp (Radau, rtol 1e-10,
atol 1e-12), integrated piecewise so that no step straddles a change of the
infusion rate; the induction bolus is added to the central amount at t = 0.
"""

import json
import os

import numpy as np
import scipy
from scipy.integrate import solve_ivp

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "propofol")
RTOL = 1e-10
ATOL = 1e-12

# Bouillon 2004 BIS model at zero remifentanil (Emax = E0).
BIS_BASELINE = 97.4
BIS_MAXIMUM_EFFECT = 97.4
CE50_MG_PER_L = 4.47
HILL = 1.43

# Patients: a typical adult (the Schnider reference covariates), an older
# woman, a tall young man, and a woman of BMI 58.6 whose weight lies past
# the peak of the James lean-body-mass curve.
PATIENTS = [
    {"name": "typicalMale", "ageYears": 53, "weightKilograms": 77, "heightCentimeters": 177,
     "female": False},
    {"name": "olderFemale", "ageYears": 80, "weightKilograms": 60, "heightCentimeters": 160,
     "female": True},
    {"name": "youngTallMale", "ageYears": 25, "weightKilograms": 90, "heightCentimeters": 190,
     "female": False},
    {"name": "obeseFemale", "ageYears": 40, "weightKilograms": 150, "heightCentimeters": 160,
     "female": True},
]

# Dosing: 2 mg/kg bolus at t = 0, then ug/kg/min rates on [start, end) min.
BOLUS_MG_PER_KG = 2.0
SCHEDULE = [(0.0, 10.0, 150.0), (10.0, 30.0, 100.0), (30.0, 40.0, 0.0)]
OUTPUT_MINUTES = np.arange(0.0, 40.0 + 1e-9, 0.5)


def james_lean_body_mass(weight, height, female):
    """James 1976 lean body mass, kg (weight kg, height cm)."""
    if female:
        return 1.07 * weight - 148.0 * (weight / height) ** 2
    return 1.1 * weight - 128.0 * (weight / height) ** 2


def schnider(patient):
    """Schnider 1998 volumes (L) and clearances (L/min), ke0 (1/min)."""
    age = patient["ageYears"]
    weight = patient["weightKilograms"]
    height = patient["heightCentimeters"]
    lbm = james_lean_body_mass(weight, height, patient["female"])
    return {
        "leanBodyMassKilograms": lbm,
        "v1": 4.27,
        "v2": 18.9 - 0.391 * (age - 53),
        "v3": 238.0,
        "cl1": 1.89 + 0.0456 * (weight - 77) - 0.0681 * (lbm - 59) + 0.0264 * (height - 177),
        "cl2": 1.29 - 0.024 * (age - 53),
        "cl3": 0.836,
        "ke0": 0.456,
    }


def simulate(patient):
    p = schnider(patient)
    weight = patient["weightKilograms"]

    def rhs(_t, x, rate_mg_per_min):
        a1, a2, a3, ce = x
        c1 = a1 / p["v1"]
        return [
            rate_mg_per_min - p["cl1"] * c1 - p["cl2"] * (c1 - a2 / p["v2"])
            - p["cl3"] * (c1 - a3 / p["v3"]),
            p["cl2"] * (c1 - a2 / p["v2"]),
            p["cl3"] * (c1 - a3 / p["v3"]),
            p["ke0"] * (c1 - ce),
        ]

    state = np.array([BOLUS_MG_PER_KG * weight, 0.0, 0.0, 0.0])
    times, central, effect = [], [], []
    for start, end, rate in SCHEDULE:
        rate_mg_per_min = rate * weight / 1000.0
        inside = OUTPUT_MINUTES[(OUTPUT_MINUTES >= start) & (OUTPUT_MINUTES < end)]
        solution = solve_ivp(rhs, (start, end), state, method="Radau", t_eval=inside,
                             args=(rate_mg_per_min,), rtol=RTOL, atol=ATOL)
        assert solution.success, solution.message
        times.extend(solution.t.tolist())
        central.extend((solution.y[0] / p["v1"]).tolist())
        effect.extend(solution.y[3].tolist())
        state = solve_ivp(rhs, (start, end), state, method="Radau", args=(rate_mg_per_min,),
                          rtol=RTOL, atol=ATOL).y[:, -1]
    times.append(SCHEDULE[-1][1])
    central.append(state[0] / p["v1"])
    effect.append(state[3])
    effect_array = np.array(effect)
    ratio = (effect_array / CE50_MG_PER_L) ** HILL
    bis = BIS_BASELINE - BIS_MAXIMUM_EFFECT * ratio / (1.0 + ratio)
    return {
        "patient": patient,
        "parameters": p,
        "timesMinutes": times,
        "centralMilligramsPerLiter": central,
        "effectSiteMilligramsPerLiter": effect,
        "bis": bis.tolist(),
    }


def main():
    os.makedirs(FIXTURES, exist_ok=True)
    document = {
        "generator": "scripts/reference_propofol.py",
        "scipyVersion": scipy.__version__,
        "solver": {"method": "Radau", "rtol": RTOL, "atol": ATOL},
        "bolusMilligramsPerKilogram": BOLUS_MG_PER_KG,
        "schedule": [{"startMinutes": s, "endMinutes": e, "rateMicrogramsPerKilogramPerMinute": r}
                     for s, e, r in SCHEDULE],
        "bis": {"baseline": BIS_BASELINE, "maximumEffect": BIS_MAXIMUM_EFFECT,
                "ce50MilligramsPerLiter": CE50_MG_PER_L, "hillCoefficient": HILL},
        "cases": [simulate(patient) for patient in PATIENTS],
    }
    path = os.path.join(FIXTURES, "reference.json")
    with open(path, "w") as handle:
        json.dump(document, handle, indent=1)
        handle.write("\n")


if __name__ == "__main__":
    main()
