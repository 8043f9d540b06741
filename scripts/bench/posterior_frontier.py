#!/usr/bin/env python3
"""How far can any dosing rule go with the levels the environment measures?

A reference experiment, not part of the product: it re-implements the
vancomycin episode of Environments/vancomycin.json for a site whose true
model is the Bayesian prior (goti2018 at icu_arc and obese) and doses every
patient with a chance-constrained posterior rule:

- Importance sampling represents the patient's posterior: PARTICLES draws
  of the between-subject effects from the prior, each weighted by the
  likelihood of every level measured so far. The likelihood uses the
  model's residual error, and a level reported as 0 counts as censored.
- At each decision, for every dose level d the rule forecasts, per particle,
  the plan "d now and at every later decision": the true troughs still to
  come (just before each later decision and at the episode end) and the
  day-3 AUC24. Among the levels whose posterior probability of any of those
  troughs above the limit is at most ALPHA, it takes the one with the
  highest posterior probability of a day-3 AUC24 inside the window (ties:
  posterior median closest to TARGET). If no level qualifies, it gives 0 mg.

The forecasts are exact for the model (closed-form two-compartment
infusion responses), and the prior is the true population model, so the
rule has all the information the learned policy could use. `--oracle` gives the
same rule the patient's true parameters instead (every particle equal to
the truth). Prints the outcome rates with 95 % Wilson intervals.

Run from the repository root:

    python3 scripts/bench/posterior_frontier.py --site icu_arc --patients 1000 --alpha 0.1
"""

import argparse
import json
import math
import sys
import time

import numpy as np
from scipy.stats import norm


def wilson(successes, n, z=1.959964):
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return p, centre - half, centre + half


def omega(variability):
    if variability is None:
        return 0.0
    if variability["scale"] == "coefficientOfVariation":
        return math.sqrt(math.log(1 + variability["value"] ** 2))
    if variability["scale"] == "omegaSquared":
        return math.sqrt(variability["value"])
    sys.exit(f"posterior_frontier: variability scale {variability['scale']!r} is not supported")


class Covariates:
    """Sampler of a population's covariates. Bounds truncate by redrawing, as in the PK core."""

    def __init__(self, spec, rng):
        self.spec, self.rng = spec, rng

    def draw_one(self, entry):
        kind = entry["distribution"]
        if kind == "bernoulli":
            return float(self.rng.random() < entry["probability"])
        low, high = entry.get("minimum", -math.inf), entry.get("maximum", math.inf)
        low = -math.inf if low is None else low
        high = math.inf if high is None else high
        while True:
            if kind == "normal":
                value = self.rng.normal(entry["mean"], entry["standardDeviation"])
            elif kind == "logNormal":
                sigma = math.sqrt(math.log(1 + entry["coefficientOfVariation"] ** 2))
                value = entry["median"] * math.exp(self.rng.normal(0, sigma))
            else:
                sys.exit(f"posterior_frontier: covariate distribution {kind!r} is not supported")
            if low <= value <= high:
                return value

    def draw(self):
        c = self.spec
        patient = {
            "age": self.draw_one(c["ageYears"]),
            "weight": self.draw_one(c["weightKilograms"]),
            "female": self.draw_one(c["female"]),
            "haemodialysis": self.draw_one(c["haemodialysis"]),
        }
        creatinine = c["serumCreatinineMilligramsPerDeciliter"]
        if patient["haemodialysis"] and "serumCreatinineOnHaemodialysis" in c:
            creatinine = c["serumCreatinineOnHaemodialysis"]
        patient["creatinine"] = self.draw_one(creatinine)
        return patient


def creatinine_clearance(rule, patient):
    creatinine = patient["creatinine"]
    floor = rule.get("serumCreatinineFloorMilligramsPerDeciliter")
    above = rule.get("serumCreatinineFloorAboveAgeYears")
    if floor is not None and patient["age"] > (above if above is not None else -math.inf):
        creatinine = max(creatinine, floor)
    value = (140 - patient["age"]) * patient["weight"] / (72 * creatinine)
    if patient["female"]:
        value *= 0.85
    if rule.get("maximumMillilitersPerMinute") is not None:
        value = min(value, rule["maximumMillilitersPerMinute"])
    if rule.get("minimumMillilitersPerMinute") is not None:
        value = max(value, rule["minimumMillilitersPerMinute"])
    return value


def typical_value(parameter, patient, clearance):
    value = parameter["typicalValue"]
    covariate_values = {
        "creatinineClearanceMillilitersPerMinute": clearance,
        "weightKilograms": patient["weight"],
        "haemodialysis": patient["haemodialysis"],
    }
    for effect in parameter["covariateEffects"]:
        x = covariate_values.get(effect["covariate"])
        if x is None:
            sys.exit(f"posterior_frontier: covariate {effect['covariate']!r} is not supported")
        if effect["kind"] == "power":
            value *= (x / effect["reference"]) ** effect["exponent"]
        elif effect["kind"] == "proportional":
            value *= x / effect["reference"]
        elif effect["kind"] == "categorical":
            value *= effect["factor"] ** x
        else:
            sys.exit(f"posterior_frontier: covariate effect {effect['kind']!r} is not supported")
    return value


class TwoCompartment:
    """Closed-form responses of a two-compartment model to a zero-order infusion, per particle."""

    def __init__(self, cl, v1, q, v2):
        k10, k12, k21 = cl / v1, q / v1, q / v2
        a = k10 + k12 + k21
        root = np.sqrt(a * a - 4 * k10 * k21)
        self.rates = ((a + root) / 2, (a - root) / 2)
        alpha, beta = self.rates
        self.weights = ((alpha - k21) / (alpha - beta) / v1, (k21 - beta) / (alpha - beta) / v1)

    def concentration(self, dose, hours, infusion):
        """Returns the concentration `hours` after an infusion starts.

        The infusion gives `dose` mg over `infusion` h.
        """
        if dose <= 0 or hours <= 0:
            return 0.0
        rate = dose / infusion
        total = 0.0
        for lam, w in zip(self.rates, self.weights):
            if hours <= infusion:
                total = total + w / lam * (1 - np.exp(-lam * hours))
            else:
                total = total + w / lam * (1 - np.exp(-lam * infusion)) * np.exp(
                    -lam * (hours - infusion)
                )
        return rate * total

    def cumulative_auc(self, dose, hours, infusion):
        """Returns the concentration's integral from the infusion start to `hours` after it."""
        if dose <= 0 or hours <= 0:
            return 0.0
        rate = dose / infusion
        inside = min(hours, infusion)
        after = max(hours - infusion, 0.0)
        total = 0.0
        for lam, w in zip(self.rates, self.weights):
            total = total + w / lam * (inside - (1 - np.exp(-lam * inside)) / lam)
            total = (
                total + w / lam * (1 - np.exp(-lam * infusion)) * (1 - np.exp(-lam * after)) / lam
            )
        return rate * total


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--environment", default="Environments/vancomycin.json")
    parser.add_argument("--site", default="icu_arc")
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--particles", type=int, default=2000)
    parser.add_argument("--alpha", type=float, default=0.1)
    parser.add_argument("--target", type=float, default=480.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--oracle", action="store_true")
    parser.add_argument(
        "--horizon",
        type=int,
        default=0,
        help="troughs after the decision that the constraint covers (default 0: all)",
    )
    args = parser.parse_args()

    definition = json.load(open(args.environment))
    if args.site not in definition["populations"]:
        sys.exit(
            f"posterior_frontier: no site {args.site!r}; "
            f"choose one of {sorted(definition['populations'])}"
        )
    population = definition["populations"][args.site]
    model_name = population["model"]
    if model_name != definition["bayesianEstimate"]["priorModel"]:
        sys.exit(
            f"posterior_frontier: {args.site} uses {model_name}, not the prior "
            f"{definition['bayesianEstimate']['priorModel']}; choose a site whose model is the prior"
        )
    model = definition["models"][model_name]
    if model["compartments"] != 2 or model.get("correlations"):
        sys.exit(
            "posterior_frontier: only two-compartment models without correlations are supported"
        )
    if population.get("measurementError"):
        sys.exit(
            "posterior_frontier: the site sets measurementError, which is not supported; "
            "remove it from a copy of the file"
        )
    parameters = model["parameters"]
    names = ("clearance", "centralVolume", "intercompartmentalClearance", "peripheralVolume")
    omegas = np.array([omega(parameters[n]["variability"]) for n in names])
    additive = model["residualError"]["additiveMilligramsPerLiter"]
    proportional = model["residualError"]["proportional"]

    dosing = definition["dosing"]
    reward = definition["reward"]
    measurements = definition["measurements"]
    interval = dosing["decisionIntervalHours"]
    decisions = int(dosing["episodeHours"] / interval)
    grid = dosing["simulationStepHours"]
    levels = np.arange(
        0, dosing["maximumDoseLevelMilligrams"] + 1, dosing["doseLevelStepMilligrams"], dtype=float
    )
    rate_limit = dosing["maximumInfusionRateMilligramsPerMinute"] * 60.0
    low, high = (
        reward["dailyAUCLowerMilligramHoursPerLiter"],
        reward["dailyAUCUpperMilligramHoursPerLiter"],
    )
    trough_limit = reward["troughLimitMilligramsPerLiter"]
    per_day = int(24 / interval)

    def infusion_hours(dose):
        hours = max(dosing["minimumInfusionHours"], dose / rate_limit)
        return math.ceil(hours / grid - 1e-9) * grid

    infusions = [infusion_hours(d) if d > 0 else 0.0 for d in levels]
    rng = np.random.default_rng(args.seed)
    sampler = Covariates(population["covariates"], rng)
    offsets = np.arange(0, decisions + 1) * interval
    last_day_start = decisions - per_day  # decision index where day 3 starts

    def tables(pk):
        conc = np.array(
            [
                [pk.concentration(d, o, t) * np.ones_like(pk.rates[0]) for o in offsets]
                for d, t in zip(levels, infusions)
            ]
        )
        auc = np.array(
            [
                [pk.cumulative_auc(d, o, t) * np.ones_like(pk.rates[0]) for o in offsets]
                for d, t in zip(levels, infusions)
            ]
        )
        return conc, auc

    def contribution(conc, auc, level, decision):
        """Returns one dose's true troughs 1...decisions (row t - 1) and its day-3 AUC24."""
        troughs = np.zeros((decisions,) + conc.shape[2:])
        for t in range(decision + 1, decisions + 1):
            troughs[t - 1] = conc[level, t - decision]
        end = auc[level, decisions - decision]
        start = auc[level, last_day_start - decision] if last_day_start >= decision else 0.0
        return troughs, end - start

    in_window = below = above = toxic = 0
    started = time.time()
    for _ in range(args.patients):
        patient = sampler.draw()
        clearance = creatinine_clearance(model["creatinineClearance"], patient)
        typical = np.array([typical_value(parameters[n], patient, clearance) for n in names])
        true_eta = rng.normal(0, 1, 4) * omegas
        particles = (
            np.tile(true_eta, (args.particles, 1))
            if args.oracle
            else rng.normal(0, 1, (args.particles, 4)) * omegas
        )
        truth = TwoCompartment(*(typical * np.exp(true_eta))[:, None])
        belief = TwoCompartment(*(typical[:, None] * np.exp(particles.T)))
        conc, auc = tables(belief)
        true_conc, true_auc = tables(truth)
        log_weights = np.zeros(args.particles)
        doses_given = []
        troughs_so_far = np.zeros((decisions, args.particles))
        auc_so_far = np.zeros(args.particles)
        for k in range(decisions):
            weights = np.exp(log_weights - log_weights.max())
            weights /= weights.sum()
            best = None
            for level in range(len(levels)):
                troughs, day3 = troughs_so_far.copy(), auc_so_far.copy()
                if levels[level] > 0:
                    for later in range(k, decisions):
                        t, a = contribution(conc, auc, level, later)
                        troughs += t
                        day3 += a
                covered = troughs[k : k + args.horizon] if args.horizon > 0 else troughs[k:]
                p_toxic = (weights * (covered > trough_limit).any(axis=0)).sum()
                if p_toxic > args.alpha:
                    continue
                p_in = (weights * ((day3 >= low) & (day3 <= high))).sum()
                order = np.argsort(day3)
                median = np.interp(0.5, np.cumsum(weights[order]), day3[order])
                key = (round(p_in, 3), -abs(median - args.target))
                if best is None or key > best[0]:
                    best = (key, level)
            level = best[1] if best else 0
            dose = levels[level]
            doses_given.append((k, level))
            if dose > 0:
                t, a = contribution(conc, auc, level, k)
                troughs_so_far += t
                auc_so_far += a
            draws = []
            if (
                dose > 0
                and infusions[level] + measurements["peakHoursAfterInfusionEnd"] <= interval
            ):
                draws.append(
                    k * interval + infusions[level] + measurements["peakHoursAfterInfusionEnd"]
                )
            if k + 1 < decisions and k + 2 >= measurements["firstTroughBeforeDoseNumber"]:
                draws.append((k + 1) * interval - measurements["troughHoursBeforeDose"])
            for when in draws:
                true_level = sum(
                    truth.concentration(levels[g], when - j * interval, infusions[g])
                    for j, g in doses_given
                    if levels[g] > 0
                )
                true_level = float(np.squeeze(true_level))
                measured = max(
                    true_level * (1 + proportional * rng.normal()) + additive * rng.normal(), 0.0
                )
                predicted = np.zeros(args.particles)
                for j, g in doses_given:
                    if levels[g] > 0:
                        predicted = predicted + belief.concentration(
                            levels[g], when - j * interval, infusions[g]
                        )
                sd = np.sqrt(additive**2 + (proportional * predicted) ** 2 + 1e-4)
                if measured > 0:
                    log_weights += -0.5 * ((measured - predicted) / sd) ** 2 - np.log(sd)
                else:
                    log_weights += norm.logcdf(-predicted / sd)
        true_troughs = np.zeros((decisions, 1))
        day3 = 0.0
        for j, g in doses_given:
            if levels[g] > 0:
                t, a = contribution(true_conc, true_auc, g, j)
                true_troughs += t
                day3 += float(np.squeeze(a))
        in_window += low <= day3 <= high
        below += day3 < low
        above += day3 > high
        toxic += bool((true_troughs > trough_limit).any())

    n = args.patients
    rule = "oracle" if args.oracle else f"posterior, alpha {args.alpha:g}"
    if args.horizon > 0:
        rule += f", next {args.horizon} troughs"
    row = [args.site, rule, str(n)]
    for count in (in_window, toxic):
        p, lo, hi = wilson(count, n)
        row.append(f"{100 * p:.1f}% [{100 * lo:.1f}-{100 * hi:.1f}]")
    row += [f"{100 * below / n:.1f}%", f"{100 * above / n:.1f}%"]
    print(
        "| site | rule | patients | day-3 in 400-600 | any trough > 20 | below 400 | above 600 |"
    )
    print("| " + " | ".join(row) + " |")
    print(
        f"({time.time() - started:.0f} s, {args.particles} particles, "
        f"target {args.target:g}, seed {args.seed})",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
