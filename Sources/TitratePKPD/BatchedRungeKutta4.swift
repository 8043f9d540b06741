/// The right-hand side f(t, x) of an ODE system dx/dt = f(t, x) evaluated
/// for a whole batch of patients at once.
///
/// Layout (structure of arrays): component k of patient p is at index
/// `k * patientCount + p`, so each loop over patients reads contiguous
/// memory. Implementations write every entry of `derivative` and keep no
/// state between calls, because the integrator evaluates them at trial
/// states that are then discarded.
public protocol BatchedRightHandSide {
  /// State components per patient, at least 1.
  var stateCount: Int { get }

  /// Writes f(t, x) for every patient.
  /// - Parameters:
  ///   - timeHours: the time of the evaluation, h.
  ///   - state: `stateCount * patientCount` values.
  ///   - derivative: `stateCount * patientCount` values to fill, per hour.
  ///   - patientCount: patients in the batch.
  func evaluate(
    timeHours: Double, state: UnsafePointer<Double>, derivative: UnsafeMutablePointer<Double>,
    patientCount: Int)
}

/// A right-hand side given as a closure (for tests and small models).
public struct ClosureRightHandSide: BatchedRightHandSide {
  public let stateCount: Int
  /// Called with (time in h, state, derivative to fill, patient count).
  public let body: (Double, UnsafePointer<Double>, UnsafeMutablePointer<Double>, Int) -> Void

  /// Wraps `body` as a right-hand side with `stateCount` components.
  public init(
    stateCount: Int,
    _ body: @escaping (Double, UnsafePointer<Double>, UnsafeMutablePointer<Double>, Int) -> Void
  ) {
    self.stateCount = stateCount
    self.body = body
  }

  public func evaluate(
    timeHours: Double, state: UnsafePointer<Double>, derivative: UnsafeMutablePointer<Double>,
    patientCount: Int
  ) {
    body(timeHours, state, derivative, patientCount)
  }
}

/// The classical fourth-order Runge-Kutta method with a fixed step, applied
/// to every patient of a batch in lockstep (structure of arrays, see
/// `BatchedRightHandSide`).
///
/// One step from x at time t with step h:
/// k1 = f(t, x), k2 = f(t + h/2, x + h/2 k1), k3 = f(t + h/2, x + h/2 k2),
/// k4 = f(t + h, x + h k3), x' = x + h/6 (k1 + 2 k2 + 2 k3 + k4).
/// The local error is O(h^5) and the global error O(h^4) for a smooth f.
/// For a linear system x' = A x the step is stable while h |lambda| < 2.78
/// for every real eigenvalue lambda of A.
///
/// Non-negativity: components listed in `nonNegativeComponents` are set
/// to max(value, 0) after every full step (not at the trial stages). Use
/// it for amounts and concentrations: a slightly negative amount after a
/// step has no physical meaning, and a right-hand side that raises a
/// concentration to a non-integer power returns NaN for it. The clamp
/// changes the solution only where the unclamped step went below zero.
///
/// The scratch buffers are allocated once, so stepping allocates nothing.
/// An integrator instance is not thread-safe; use one per thread.
public final class BatchedRungeKutta4 {
  /// State components per patient.
  public let stateCount: Int
  /// Patients in the batch.
  public let patientCount: Int
  /// Components (0-based, `< stateCount`) clamped at 0 after each step.
  public let nonNegativeComponents: [Int]

  private let stage1: UnsafeMutableBufferPointer<Double>
  private let stage2: UnsafeMutableBufferPointer<Double>
  private let stage3: UnsafeMutableBufferPointer<Double>
  private let stage4: UnsafeMutableBufferPointer<Double>
  private let trialState: UnsafeMutableBufferPointer<Double>

  /// Creates an integrator for `patientCount` patients of `stateCount`
  /// components each.
  /// - Precondition: both counts are at least 1, and every entry of
  ///   `nonNegativeComponents` is in `0..<stateCount`.
  public init(stateCount: Int, patientCount: Int, nonNegativeComponents: [Int] = []) {
    precondition(stateCount >= 1, "stateCount must be at least 1, got \(stateCount)")
    precondition(patientCount >= 1, "patientCount must be at least 1, got \(patientCount)")
    for component in nonNegativeComponents {
      precondition(
        (0..<stateCount).contains(component),
        "non-negative component \(component) is outside 0..<\(stateCount)")
    }
    self.stateCount = stateCount
    self.patientCount = patientCount
    self.nonNegativeComponents = nonNegativeComponents
    let size = stateCount * patientCount
    stage1 = .allocate(capacity: size)
    stage2 = .allocate(capacity: size)
    stage3 = .allocate(capacity: size)
    stage4 = .allocate(capacity: size)
    trialState = .allocate(capacity: size)
    for buffer in [stage1, stage2, stage3, stage4, trialState] {
      buffer.initialize(repeating: 0)
    }
  }

  deinit {
    for buffer in [stage1, stage2, stage3, stage4, trialState] {
      buffer.deallocate()
    }
  }

  /// Advances `state` (`stateCount * patientCount` values) by `steps`
  /// steps of `stepHours` from `timeHours`.
  /// - Precondition: the sizes match, `stepHours > 0`, `steps >= 0`, and
  ///   `rightHandSide.stateCount == stateCount`.
  public func advance<F: BatchedRightHandSide>(
    _ state: inout [Double], fromHours timeHours: Double, steps: Int, stepHours: Double,
    rightHandSide: F
  ) {
    precondition(
      state.count == stateCount * patientCount,
      "state has \(state.count) values, expected \(stateCount * patientCount)")
    precondition(stepHours > 0 && stepHours.isFinite, "stepHours must be > 0, got \(stepHours)")
    precondition(steps >= 0, "steps must be >= 0, got \(steps)")
    precondition(
      rightHandSide.stateCount == stateCount,
      "right-hand side has \(rightHandSide.stateCount) components, expected \(stateCount)")
    state.withUnsafeMutableBufferPointer { buffer in
      for index in 0..<steps {
        step(
          buffer.baseAddress!, timeHours: timeHours + Double(index) * stepHours,
          stepHours: stepHours, rightHandSide: rightHandSide)
      }
    }
  }

  /// Takes one step in place on raw storage (the hot path of
  /// `advance`); `state` must hold `stateCount * patientCount` values.
  public func step<F: BatchedRightHandSide>(
    _ state: UnsafeMutablePointer<Double>, timeHours: Double, stepHours h: Double,
    rightHandSide f: F
  ) {
    let size = stateCount * patientCount
    let x = state
    let k1 = stage1.baseAddress!
    let k2 = stage2.baseAddress!
    let k3 = stage3.baseAddress!
    let k4 = stage4.baseAddress!
    let trial = trialState.baseAddress!
    let n = patientCount

    f.evaluate(timeHours: timeHours, state: x, derivative: k1, patientCount: n)
    for i in 0..<size { trial[i] = x[i] + 0.5 * h * k1[i] }
    f.evaluate(timeHours: timeHours + 0.5 * h, state: trial, derivative: k2, patientCount: n)
    for i in 0..<size { trial[i] = x[i] + 0.5 * h * k2[i] }
    f.evaluate(timeHours: timeHours + 0.5 * h, state: trial, derivative: k3, patientCount: n)
    for i in 0..<size { trial[i] = x[i] + h * k3[i] }
    f.evaluate(timeHours: timeHours + h, state: trial, derivative: k4, patientCount: n)
    let sixth = h / 6
    for i in 0..<size {
      x[i] += sixth * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i])
    }

    for component in nonNegativeComponents {
      let start = component * n
      for i in start..<(start + n) where x[i] < 0 { x[i] = 0 }
    }
  }
}
