import Foundation
import Testing

@testable import TitratePKPD

/// Checks the batched RK4 integrator against closed-form solutions.
@Suite struct BatchedRungeKutta4Tests {
  /// dx/dt = -k_p x for patient p with its own rate k_p (1/h).
  static func decay(rates: [Double]) -> ClosureRightHandSide {
    ClosureRightHandSide(stateCount: 1) { _, state, derivative, count in
      for p in 0..<count { derivative[p] = -rates[p] * state[p] }
    }
  }

  /// Maximum |x(T) - exp(-k T)| over patients after `steps` steps of h.
  static func decayError(stepHours: Double, endHours: Double) -> Double {
    let rates = [0.05, 0.3, 1.0, 2.0]
    var state = [Double](repeating: 1, count: rates.count)
    let integrator = BatchedRungeKutta4(stateCount: 1, patientCount: rates.count)
    integrator.advance(
      &state, fromHours: 0, steps: Int((endHours / stepHours).rounded()), stepHours: stepHours,
      rightHandSide: decay(rates: rates))
    return zip(state, rates).map { abs($0 - exp(-$1 * endHours)) }.max()!
  }

  @Test func exponentialDecayMatchesClosedForm() {
    // Largest k h is 2 x 0.25 = 0.5: the local error per step is about
    // (k h)^5 / 120, far below the tolerance.
    #expect(Self.decayError(stepHours: 0.25, endHours: 12) < 2e-4)
    #expect(Self.decayError(stepHours: 0.05, endHours: 12) < 1e-7)
  }

  @Test func errorShrinksAtFourthOrder() {
    let coarse = Self.decayError(stepHours: 0.2, endHours: 4)
    let fine = Self.decayError(stepHours: 0.1, endHours: 4)
    // Halving h divides a fourth-order global error by about 2^4 = 16.
    let ratio = coarse / fine
    #expect(ratio > 12)
    #expect(ratio < 20)
  }

  @Test func twoStateChainMatchesClosedForm() {
    // x' = -a x, y' = a x - b y with x(0) = 1, y(0) = 0 has
    // y(t) = a / (b - a) (exp(-a t) - exp(-b t)): first-order absorption
    // into a compartment with elimination rate b.
    let a = [0.8, 2.0, 0.1]
    let b = [0.1, 0.3, 0.05]
    let count = a.count
    let chain = ClosureRightHandSide(stateCount: 2) { _, state, derivative, n in
      for p in 0..<n {
        derivative[p] = -a[p] * state[p]
        derivative[n + p] = a[p] * state[p] - b[p] * state[n + p]
      }
    }
    var state = [Double](repeating: 1, count: count) + [Double](repeating: 0, count: count)
    let integrator = BatchedRungeKutta4(stateCount: 2, patientCount: count)
    let stepHours = 0.1
    // For a = 2/h the relative error per step is about (a h)^5 / 120 =
    // 2.7e-6; it accumulates to about 5e-6 near t = 1/a, so 2e-5 bounds it.
    let tolerance = 2e-5
    for stepIndex in 1...240 {
      integrator.advance(
        &state, fromHours: Double(stepIndex - 1) * stepHours, steps: 1, stepHours: stepHours,
        rightHandSide: chain)
      let t = Double(stepIndex) * stepHours
      for p in 0..<count {
        let expected = a[p] / (b[p] - a[p]) * (exp(-a[p] * t) - exp(-b[p] * t))
        #expect(abs(state[count + p] - expected) < tolerance, "patient \(p) at \(t) h")
        #expect(abs(state[p] - exp(-a[p] * t)) < tolerance, "patient \(p) at \(t) h")
      }
    }
  }

  @Test func passesStageTimesToRightHandSide() {
    // x' = t^3 is integrated exactly by RK4 (Simpson's rule is exact for
    // cubics), so x(T) = T^4 / 4 to rounding.
    let cubic = ClosureRightHandSide(stateCount: 1) { t, _, derivative, n in
      for p in 0..<n { derivative[p] = t * t * t }
    }
    var state = [0.0, 0.0]
    let integrator = BatchedRungeKutta4(stateCount: 1, patientCount: 2)
    integrator.advance(&state, fromHours: 1, steps: 7, stepHours: 0.5, rightHandSide: cubic)
    // From t = 1 to t = 4.5: (4.5^4 - 1) / 4.
    let expected = (4.5 * 4.5 * 4.5 * 4.5 - 1) / 4
    #expect(abs(state[0] - expected) < 1e-10)
    #expect(abs(state[1] - expected) < 1e-10)
  }

  @Test func clampsOnlyListedComponents() {
    // Both components fall at 1 per hour from 0.1; one step of 1 h takes
    // them to -0.9, and only component 0 is clamped.
    let falling = ClosureRightHandSide(stateCount: 2) { _, _, derivative, n in
      for i in 0..<(2 * n) { derivative[i] = -1 }
    }
    var state = [0.1, 0.1]
    let integrator = BatchedRungeKutta4(
      stateCount: 2, patientCount: 1, nonNegativeComponents: [0])
    integrator.advance(&state, fromHours: 0, steps: 1, stepHours: 1, rightHandSide: falling)
    #expect(state[0] == 0)
    #expect(abs(state[1] - -0.9) < 1e-12)
  }

  @Test func zeroStepsLeavesStateUnchanged() {
    var state = [0.5, 0.25]
    let integrator = BatchedRungeKutta4(stateCount: 1, patientCount: 2)
    integrator.advance(
      &state, fromHours: 0, steps: 0, stepHours: 1, rightHandSide: Self.decay(rates: [1, 1]))
    #expect(state == [0.5, 0.25])
  }
}
