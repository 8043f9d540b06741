/// Computes generalised advantage estimates (Schulman et al. 2016,
/// "High-Dimensional Continuous Control Using Generalized Advantage
/// Estimation", equations 11-16) and the value targets
/// `returns = advantages + values`.
///
/// Arrays are time-major: entry `t * environmentCount + e` is step `t` of
/// environment `e`. For each entry,
///
///     delta_t = r_t + gamma * (terminated_t ? 0 : nextValue_t) - V(s_t)
///     A_t     = delta_t + gamma * lambda * (ended_t ? 0 : A_{t+1})
///
/// where `ended_t = terminated_t || truncated_t`, and `A` after the last
/// step is 0. So a truncated step still bootstraps from `nextValue_t`
/// (the value of the episode's final observation), a terminated one does
/// not, and neither carries advantage across the episode boundary.
///
/// - Parameters:
///   - rewards: `r_t`, reward units.
///   - values: `V(s_t)` of the observation the action was taken in.
///   - nextValues: the value of the observation after step `t`: of the
///     final observation when the step ended the episode by truncation, of
///     the next step's observation otherwise. Ignored when terminated.
///   - terminated: the task ended (no bootstrapping).
///   - truncated: a time limit cut the episode off (bootstrapping).
///   - gamma: discount per step, in [0, 1].
///   - lambda: GAE lambda, in [0, 1].
public func generalizedAdvantageEstimates(
  rewards: [Float], values: [Float], nextValues: [Float], terminated: [Bool], truncated: [Bool],
  environmentCount: Int, gamma: Float, lambda: Float
) -> (advantages: [Float], returns: [Float]) {
  let count = rewards.count
  precondition(environmentCount > 0, "environmentCount must be positive, got \(environmentCount)")
  precondition(
    values.count == count && nextValues.count == count && terminated.count == count
      && truncated.count == count,
    "GAE inputs must all have \(count) entries")
  precondition(
    count % environmentCount == 0,
    "\(count) entries are not whole steps of \(environmentCount) environments")
  let steps = count / environmentCount
  var advantages = [Float](repeating: 0, count: count)
  var returns = [Float](repeating: 0, count: count)
  for environment in 0..<environmentCount {
    var following: Float = 0
    for step in stride(from: steps - 1, through: 0, by: -1) {
      let index = step * environmentCount + environment
      let bootstrap = terminated[index] ? 0 : gamma * nextValues[index]
      let delta = rewards[index] + bootstrap - values[index]
      let continues: Float = terminated[index] || truncated[index] ? 0 : 1
      following = delta + gamma * lambda * continues * following
      advantages[index] = following
      returns[index] = following + values[index]
    }
  }
  return (advantages, returns)
}

/// Returns `1 - Var(targets - predictions) / Var(targets)`: 1 for a
/// perfect value function, 0 for one no better than a constant, negative
/// when worse. NaN when the targets have zero variance.
public func explainedVariance(predictions: [Float], targets: [Float]) -> Double {
  precondition(predictions.count == targets.count, "explained variance needs equal lengths")
  func variance(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let mean = values.reduce(0, +) / Double(values.count)
    return values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
  }
  let targetValues = targets.map(Double.init)
  let residuals = zip(targets, predictions).map { Double($0) - Double($1) }
  let targetVariance = variance(targetValues)
  return targetVariance == 0 ? .nan : 1 - variance(residuals) / targetVariance
}
