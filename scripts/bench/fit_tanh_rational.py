"""Fit the rational tanh approximation used by Titrate's `fastTanh`.

The approximation is tanh(x) ~ x P(s) / Q(s) with s = min(x^2, CLAMP^2) and
the result clamped to [-1, 1], where P and Q have degree 4 in s and
P(0) = Q(0) = 1, so the slope at 0 is exactly 1. The fit minimises the maximum absolute error over
[0, CLAMP] by linearised least squares (x P(s) - tanh(x) Q(s) = 0, weighted by
1 / Q(s)^2) with Lawson's reweighting towards the minimax solution.

The program prints the coefficients rounded to float32, as Swift literals,
and the maximum absolute error of the float32 evaluation (each operation
rounded, no fused multiply-add, as Swift compiles it) against float64 tanh
on a dense grid. Needs only numpy.

    python3 scripts/bench/fit_tanh_rational.py
"""

import numpy as np

DEGREE = 4
CLAMP = 9.0
ITERATIONS = 200


def fit_coefficients():
    """Return (max absolute error in float64, P coefficients, Q coefficients)."""
    uniform = np.linspace(0, CLAMP, 40001)[1:]
    dense_near_end = CLAMP * np.sin(np.linspace(0, np.pi / 2, 40001))[1:]
    x = np.unique(np.concatenate([uniform, dense_near_end]))
    s = x * x
    target = np.tanh(x)
    weights = np.ones_like(x)
    denominator = np.ones_like(x)
    best = None
    for _ in range(ITERATIONS):
        # Unknowns p1..p4 and q1..q4: x s P1(s) - tanh(x) s Q1(s) = tanh(x) - x.
        powers = np.stack([s**k for k in range(1, DEGREE + 1)], axis=1)
        design = np.concatenate([x[:, None] * powers, -target[:, None] * powers], axis=1)
        scale = np.sqrt(weights) / np.abs(denominator)
        solution, *_ = np.linalg.lstsq(design * scale[:, None], (target - x) * scale, rcond=None)
        p = np.concatenate([[1.0], solution[:DEGREE]])
        q = np.concatenate([[1.0], solution[DEGREE:]])
        denominator = np.polyval(q[::-1], s)
        error = np.abs(x * np.polyval(p[::-1], s) / denominator - target)
        worst = error.max()
        if best is None or worst < best[0]:
            best = (worst, p, q)
        weights = weights * (error / worst + 1e-4)
        weights /= weights.sum()
    return best


def horner_float32(coefficients, s):
    """Evaluate sum c_k s^k in float32 by Horner's rule, rounding each step."""
    result = np.full_like(s, coefficients[-1])
    for coefficient in coefficients[-2::-1]:
        result = (result * s).astype(np.float32) + coefficient
    return result


def evaluate_float32(p, q, x, clamp_output=True):
    """Evaluate the approximation in float32 as `fastTanh` does, clamping x^2 and the result."""
    x = x.astype(np.float32)
    s = np.minimum(x * x, np.float32(CLAMP * CLAMP))
    result = (x * horner_float32(p, s)) / horner_float32(q, s)
    return np.clip(result, np.float32(-1), np.float32(1)) if clamp_output else result


def main():
    worst, p, q = fit_coefficients()
    p32 = np.array(p, dtype=np.float32)
    q32 = np.array(q, dtype=np.float32)
    grid = np.linspace(0, 12, 24_000_001).astype(np.float32)
    approximation = evaluate_float32(p32, q32, grid).astype(np.float64)
    float32_error = np.abs(approximation - np.tanh(grid.astype(np.float64))).max()
    print(f"max |error| in float64 arithmetic on [0, {CLAMP}]: {worst:.3g}")
    print(f"max |error| of the float32 evaluation on [0, 12]: {float32_error:.3g}")
    at_clamp = evaluate_float32(p32, q32, np.array([CLAMP]), clamp_output=False)[0]
    print(f"value at x = {CLAMP} before the output clamp (must be >= 1): {at_clamp!r}")
    for name, coefficients in (("numerator", p32), ("denominator", q32)):
        literals = ", ".join(np.format_float_scientific(c, unique=True) for c in coefficients)
        print(f"{name} (s^0 first): {literals}")


if __name__ == "__main__":
    main()
