import Foundation

/// The PID baseline's running state for every patient.
struct PropofolPIDState {
  /// Integral of the BIS error, BIS units x min.
  var integral: [Double]
  /// Error at the previous decision (nil before the first).
  var previousError: [Double?]
  /// The decision whose actions `actions` holds, so a second call for the
  /// same decision returns them without integrating again.
  var decision: Int
  var actions: [Float]
}

// Built-in baselines of `PropofolEnvironment`.
extension PropofolEnvironment {
  /// `pid` (the definition's PID controller) and `constant_rate` (its
  /// feedforward rate throughout).
  public var baselineNames: [String] { ["pid", "constant_rate"] }

  /// Returns each environment's baseline rate for the current decision,
  /// ug/kg/min.
  ///
  /// `pid` acts on the reported BIS error e = BIS - target: rate =
  /// feedforward + Kp e + Ki integral(e dt) + Kd de/dt, clamped to
  /// [0, maximum]. The integral is frozen while the output is clamped and
  /// the error would push it further (conditional integration, an
  /// anti-windup scheme), which keeps the post-bolus undershoot from winding
  /// the integral down. The controller keeps its own state per patient, so
  /// its actions are its own even when another policy doses the patients.
  /// Calling twice in one decision returns the same actions.
  /// - Throws: `BaselineError.unknownBaseline` for another name.
  public func baselineActions(named name: String) throws(BaselineError) -> [Float] {
    guard baselineNames.contains(name) else {
      throw .unknownBaseline(name: name, known: baselineNames)
    }

    let pid = definition.pid
    if name == "constant_rate" {
      return [Float](
        repeating: Float(pid.feedforwardRateMicrogramsPerKilogramPerMinute), count: batchSize)
    }
    var state =
      pidState
      ?? PropofolPIDState(
        integral: [Double](repeating: 0, count: batchSize),
        previousError: [Double?](repeating: nil, count: batchSize), decision: -1, actions: [])
    if state.decision == decision { return state.actions }

    let maximum = definition.dosing.maximumRateMicrogramsPerKilogramPerMinute
    let intervalMinutes = definition.dosing.decisionIntervalSeconds / 60
    var actions = [Float](repeating: 0, count: batchSize)
    for p in 0..<batchSize {
      let error = measuredBIS[p] - definition.reward.targetBIS
      let derivative = state.previousError[p].map { (error - $0) / intervalMinutes } ?? 0

      // Conditional integration: keep the old integral when the clamped
      // output and the error point the same way.
      let candidateIntegral = state.integral[p] + error * intervalMinutes
      let unclamped =
        pid.feedforwardRateMicrogramsPerKilogramPerMinute + pid.proportionalGain * error
        + pid.integralGainPerMinute * candidateIntegral + pid.derivativeGainMinutes * derivative
      let saturatedHigh = unclamped > maximum && error > 0
      let saturatedLow = unclamped < 0 && error < 0
      if !saturatedHigh && !saturatedLow { state.integral[p] = candidateIntegral }
      let output =
        pid.feedforwardRateMicrogramsPerKilogramPerMinute + pid.proportionalGain * error
        + pid.integralGainPerMinute * state.integral[p] + pid.derivativeGainMinutes * derivative
      actions[p] = Float(min(max(output, 0), maximum))
      state.previousError[p] = error
    }

    state.decision = decision
    state.actions = actions
    pidState = state
    return actions
  }
}
