#!/usr/bin/env python3
"""Write reference propofol trajectories for the Swift propofol tests.

Run from the repository root:  python3 scripts/reference_propofol.py
Needs numpy and scipy only. Writes Tests/Fixtures/propofol/reference.json
(Schnider) and Tests/Fixtures/propofol/reference_eleveld.json (Eleveld).

PK: Schnider TW et al., Anesthesiology 1998;88:1170-1182 (three
compartments, covariates age, weight, height and lean body mass by the
James formula), with the effect-site rate ke0 = 0.456 /min of Schnider TW
et al., Anesthesiology 1999;90:1502-1516. BIS: sigmoid Emax on the
effect-site concentration with the parameters of Bouillon TW et al.,
Anesthesiology 2004;100:1353-1372, at zero remifentanil.

The Eleveld cases use Eleveld DJ et al., Br J Anaesth 2018;120:942-959
(arterial ke0, no opioids, Q2ref 1.75 L/min) with the Al-Sallami fat-free
mass, and the same BIS model.

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


def al_sallami_ffm(age, weight, height, female):
    """Al-Sallami fat-free mass, kg."""
    bmi = weight / (height / 100.0) ** 2
    if female:
        return (1.11 - 0.11 / (1 + (age / 7.1) ** -1.1)) * 9270 * weight / (8780 + 244 * bmi)
    return (0.88 + 0.12 / (1 + (age / 13.4) ** -12.7)) * 9270 * weight / (6680 + 216 * bmi)


def eleveld(patient):
    """Eleveld 2018 volumes (L), clearances (L/min) and ke0 (1/min)."""
    age = patient["ageYears"]
    weight = patient["weightKilograms"]
    female = patient["female"]

    def sig(x, e50, g):
        return x ** g / (x ** g + e50 ** g)

    pma, pma_ref = age * 52 + 40, 35 * 52 + 40
    ffm = al_sallami_ffm(age, weight, patient["heightCentimeters"], female)
    ffm_ref = al_sallami_ffm(35, 70, 170, False)
    v1 = 6.28 * sig(weight, 33.6, 1) / sig(70, 33.6, 1)
    v2 = 25.5 * weight / 70 * np.exp(-0.0156 * (age - 35))
    v3 = 273 * ffm / ffm_ref
    cl = (2.10 if female else 1.79) * (weight / 70) ** 0.75 \
        * sig(pma, 42.3, 9.06) / sig(pma_ref, 42.3, 9.06)
    q2 = 1.75 * (v2 / 25.5) ** 0.75 * (1 + 1.30 * (1 - sig(pma, 68.3, 1)))
    q3 = 1.11 * (v3 / 273) ** 0.75 * sig(pma, 68.3, 1) / sig(pma_ref, 68.3, 1)
    return {"leanBodyMassKilograms": ffm, "v1": v1, "v2": v2, "v3": v3, "cl1": cl,
            "cl2": q2, "cl3": q3, "ke0": 0.146 * (weight / 70) ** -0.25}


def simulate(patient, model=schnider):
    p = model(patient)
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
    document["cases"] = [simulate(patient, eleveld) for patient in PATIENTS]
    path = os.path.join(FIXTURES, "reference_eleveld.json")
    with open(path, "w") as handle:
        json.dump(document, handle, indent=1)
        handle.write("\n")


if __name__ == "__main__":
    main()
