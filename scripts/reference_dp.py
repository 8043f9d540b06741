#!/usr/bin/env python3
"""Write Opacus RDP reference values for the TitrateFederation privacy tests.

Run from the repository root:  python3 scripts/reference_dp.py
Needs opacus (pip install opacus), which brings torch, numpy and scipy; this
script installs nothing. Output: Tests/Fixtures/dp/opacus_rdp.json with

  orders       the RDP orders of opacus RDPAccountant.DEFAULT_ALPHAS
               (1.1 to 10.9 in steps of 0.1, then 12 to 63)
  cases        one entry per (noise multiplier z, sampling rate q):
               rdp_per_round[i], the RDP of one round at orders[i], from
               opacus.accountants.analysis.rdp.compute_rdp, and
               epsilons, one per (rounds, delta), from get_privacy_spent
               on the composed RDP (the Balle et al. 2020 conversion),
               with the order that attains the minimum.

The grid is z in (0.5, 0.8, 1.1, 2, 5), q in (1e-5, 0.01, 0.1, 0.5, 1.0),
rounds in (1, 10, 1000) and delta in (1e-5, 1e-7).

  high_precision  RDP at a few (z, q, order) points computed with mpmath
               at 50 significant digits, independently of Opacus: the
               binomial sum for integer orders, and numerical integration
               of A_alpha = E_{x ~ N(0, z^2)}[((1 - q) + q exp((2x - 1) /
               (2 z^2)))^alpha] for fractional orders. At q = 1e-5 the RDP
               is 1e-12 to 1e-8, and Opacus's double-precision series loses
               digits there; these values show which side is right.
"""

import json
import os
import warnings

import mpmath
import opacus
from opacus.accountants import RDPAccountant
from opacus.accountants.analysis.rdp import compute_rdp, get_privacy_spent

FIXTURE = os.path.join(
    os.path.dirname(__file__), "..", "Tests", "Fixtures", "dp", "opacus_rdp.json"
)
NOISE_MULTIPLIERS = (0.5, 0.8, 1.1, 2.0, 5.0)
SAMPLING_RATES = (1e-5, 0.01, 0.1, 0.5, 1.0)
ROUNDS = (1, 10, 1000)
DELTAS = (1e-5, 1e-7)


def case(orders, noise_multiplier, sampling_rate):
    per_round = compute_rdp(
        q=sampling_rate, noise_multiplier=noise_multiplier, steps=1, orders=orders
    )
    epsilons = []
    for rounds in ROUNDS:
        composed = compute_rdp(
            q=sampling_rate, noise_multiplier=noise_multiplier, steps=rounds, orders=orders
        )
        for delta in DELTAS:
            # Opacus warns when the best order is the first or last one;
            # the value is still what its accountant reports.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                epsilon, order = get_privacy_spent(orders=orders, rdp=composed, delta=delta)
            epsilons.append(
                {
                    "rounds": rounds,
                    "delta": delta,
                    "epsilon": float(epsilon),
                    "optimal_order": float(order),
                }
            )
    return {
        "noise_multiplier": noise_multiplier,
        "sampling_rate": sampling_rate,
        "rdp_per_round": [float(value) for value in per_round],
        "epsilons": epsilons,
    }


HIGH_PRECISION_POINTS = [
    (z, q, order)
    for z in NOISE_MULTIPLIERS
    for q in (1e-5, 0.5)
    for order in (1.1, 1.5, 2.0, 10.5, 12.0)
]


def high_precision_rdp(noise_multiplier, sampling_rate, order):
    mpmath.mp.dps = 50
    z = mpmath.mpf(noise_multiplier)
    q = mpmath.mpf(sampling_rate)
    if float(order).is_integer():
        alpha = int(order)
        a = mpmath.fsum(
            mpmath.binomial(alpha, k)
            * (1 - q) ** (alpha - k)
            * q**k
            * mpmath.exp(mpmath.mpf(k * k - k) / (2 * z * z))
            for k in range(alpha + 1)
        )
    else:
        alpha = mpmath.mpf(order)

        def integrand(x):
            mixture = (1 - q) + q * mpmath.exp((2 * x - 1) / (2 * z * z))
            return mpmath.npdf(x, 0, z) * mixture**alpha

        a = mpmath.quad(integrand, [-mpmath.inf, -10 * z, 0, 10 * z, mpmath.inf])
    return float(mpmath.log(a) / (alpha - 1))


def main():
    orders = [float(order) for order in RDPAccountant.DEFAULT_ALPHAS]
    cases = [
        case(orders, noise_multiplier, sampling_rate)
        for noise_multiplier in NOISE_MULTIPLIERS
        for sampling_rate in SAMPLING_RATES
    ]
    payload = {
        "generator": (
            f"scripts/reference_dp.py (opacus {opacus.__version__},"
            f" mpmath {mpmath.__version__})"
        ),
        "orders": orders,
        "cases": cases,
        "high_precision": [
            {
                "noise_multiplier": z,
                "sampling_rate": q,
                "order": order,
                "rdp": high_precision_rdp(z, q, order),
            }
            for z, q, order in HIGH_PRECISION_POINTS
        ],
    }
    with open(FIXTURE, "w") as handle:
        json.dump(payload, handle, indent=1)
        handle.write("\n")


if __name__ == "__main__":
    main()
