#!/usr/bin/env python3
"""Write reference glucose trajectories of simglucose for the Swift tests.

Run from the repository root:  python3 scripts/reference_glucose.py
It installs simglucose 0.2.11 with pip when that version is not importable
(use a virtual environment). Writes Tests/Fixtures/glucose/reference.csv.

Protocol, the same for all 30 virtual patients of simglucose (UVA/Padova
model, Dalla Man et al. IEEE TBME 2007, as simglucose 0.2.11 implements
it), 24 h from minute 0, no CGM noise, no pump rounding:
- basal insulin at the patient's steady-state rate u2ss * BW / 6000 U/min,
  suspended from 02:00 to 04:00 and doubled from 21:00 to 22:00;
- meals announced at 07:00 (50 g), 12:00 (70 g) and 18:30 (80 g), eaten at
  simglucose's 5 g/min;
- a meal bolus of carbohydrate / CR units (CR from Quest.csv) given in the
  first minute of each meal, and a 1 U correction bolus at 15:00.
Every input is constant within a minute, as in simglucose's environment.

Columns: patient name, minute, then for each of two solvers the blood
glucose (Gs / Vg, mg/dL), plasma glucose Gp (mg/kg) and plasma insulin Ip
(pmol/kg), every 15 min:
- `*_dopri5`: simglucose's own patient object (scipy `ode` dopri5 with its
  default rtol 1e-6, restarted every minute);
- `*_tight`: the same object with dopri5 at rtol 1e-11, atol 1e-11, as the
  reference for the step-size study.

`--bench N` instead times N 3-min steps of simglucose's environment for
one patient (Dexcom sensor, Insulet pump, basal-bolus controller, random
meals) and prints the step rate.
"""

import argparse
import csv
import importlib
import importlib.metadata
import os
import subprocess
import sys
import time

SIMGLUCOSE_VERSION = "0.2.11"
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "glucose")
MINUTES = 24 * 60
SAMPLE_EVERY_MINUTES = 15
MEALS_GRAMS_BY_MINUTE = {7 * 60: 50.0, 12 * 60: 70.0, 18 * 60 + 30: 80.0}
CORRECTION_MINUTE = 15 * 60
CORRECTION_UNITS = 1.0


def ensure_simglucose():
    """Install the pinned simglucose release unless it is already present."""
    try:
        installed = importlib.metadata.version("simglucose")
    except importlib.metadata.PackageNotFoundError:
        installed = None
    if installed != SIMGLUCOSE_VERSION:
        subprocess.check_call(
            [sys.executable, "-m", "pip", "install", "--quiet",
             f"simglucose=={SIMGLUCOSE_VERSION}"])
        importlib.invalidate_caches()


def basal_multiplier(minute):
    """Multiplier on the steady-state basal rate at a minute of the day."""
    if 2 * 60 <= minute < 4 * 60:
        return 0.0
    if 21 * 60 <= minute < 22 * 60:
        return 2.0
    return 1.0


def run_patient(name, carbohydrate_ratio, tight):
    """Simulate the protocol and return rows of (minute, bg, gp, ip)."""
    from simglucose.patient.t1dpatient import Action, T1DPatient

    patient = T1DPatient.withName(name)
    if tight:
        patient._odesolver.set_integrator("dopri5", rtol=1e-11, atol=1e-11)
        patient._odesolver.set_initial_value(patient.init_state, patient.t0)
    params = patient._params
    basal_units_per_minute = params.u2ss * params.BW / 6000
    rows = []
    for minute in range(MINUTES + 1):
        if minute % SAMPLE_EVERY_MINUTES == 0:
            state = patient.state
            rows.append((minute, state[12] / params.Vg, state[3], state[5]))
        if minute == MINUTES:
            break
        carbohydrate = MEALS_GRAMS_BY_MINUTE.get(minute, 0.0)
        insulin = basal_units_per_minute * basal_multiplier(minute)
        if carbohydrate > 0:
            insulin += carbohydrate / carbohydrate_ratio
        if minute == CORRECTION_MINUTE:
            insulin += CORRECTION_UNITS
        patient.step(Action(CHO=carbohydrate, insulin=insulin))
    return rows


def write_reference():
    import pandas as pd

    params_dir = os.path.join(os.path.dirname(importlib.import_module("simglucose").__file__),
                              "params")
    patients = pd.read_csv(os.path.join(params_dir, "vpatient_params.csv"))
    quest = pd.read_csv(os.path.join(params_dir, "Quest.csv"))
    os.makedirs(FIXTURES, exist_ok=True)
    path = os.path.join(FIXTURES, "reference.csv")
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient", "minute", "bg_dopri5", "gp_dopri5", "ip_dopri5",
                         "bg_tight", "gp_tight", "ip_tight"])
        for name in patients.Name:
            ratio = float(quest.loc[quest.Name == name, "CR"].iloc[0])
            default = run_patient(name, ratio, tight=False)
            tight = run_patient(name, ratio, tight=True)
            for (minute, *values), (_, *tight_values) in zip(default, tight):
                writer.writerow([name, minute] + [f"{v:.10g}" for v in values + tight_values])
    print(f"wrote {path} (simglucose {SIMGLUCOSE_VERSION}, {len(patients)} patients)")


def bench(steps):
    from datetime import datetime

    from simglucose.actuator.pump import InsulinPump
    from simglucose.controller.basal_bolus_ctrller import BBController
    from simglucose.patient.t1dpatient import T1DPatient
    from simglucose.sensor.cgm import CGMSensor
    from simglucose.simulation.env import T1DSimEnv
    from simglucose.simulation.scenario_gen import RandomScenario

    env = T1DSimEnv(
        T1DPatient.withName("adolescent#001"), CGMSensor.withName("Dexcom", seed=1),
        InsulinPump.withName("Insulet"),
        RandomScenario(start_time=datetime(2024, 1, 1, 0, 0, 0), seed=1))
    controller = BBController()
    observation, reward, done, info = env.reset()
    started = time.perf_counter()
    for _ in range(steps):
        action = controller.policy(observation, reward, done, **info)
        observation, reward, done, info = env.step(action)
    seconds = time.perf_counter() - started
    print(f"simglucose {SIMGLUCOSE_VERSION}: {steps} steps of 3 min, one patient, "
          f"{seconds:.2f} s, {steps / seconds:.1f} steps/s, {1000 * seconds / steps:.2f} ms/step")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=int, metavar="N",
                        help="time N environment steps instead of writing the fixture")
    arguments = parser.parse_args()
    ensure_simglucose()
    if arguments.bench:
        bench(arguments.bench)
    else:
        write_reference()


if __name__ == "__main__":
    main()
