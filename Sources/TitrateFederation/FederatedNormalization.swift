import TitratePolicy

/// Source of the observation statistics that normalise the policy's input.
public enum ObservationNormalization: String, Codable, Sendable, Equatable {
  /// Each site's statistics are merged at the aggregator every round (by
  /// count, Chan et al.'s parallel formula) and broadcast with the model,
  /// so every site and any new site feeds the policy identically scaled
  /// inputs. Sites share only per-feature counts, means and variances of
  /// their round's observations.
  case federated
  /// Each site keeps its own statistics and never shares them. With
  /// non-IID sites this hides the differences between sites from the
  /// shared policy: a creatinine clearance of 25 mL/min at a renal ward and
  /// 150 mL/min in an ICU can both normalise to 0.
  case perSite
}

/// Returns the statistics of the observations that turned `before` into
/// `after` when merged: the inverse of `RunningNormalizer.merge`.
/// - Precondition: both describe the same features and `after.count >=
///   before.count`.
func statisticsIncrement(
  from before: RunningNormalizer.State, to after: RunningNormalizer.State
) -> RunningNormalizer.State {
  precondition(before.mean.count == after.mean.count, "feature counts differ")
  let addedCount = after.count - before.count
  precondition(addedCount >= 0, "statistics lost observations")
  guard addedCount > 0 else {
    return RunningNormalizer.State(
      mean: before.mean.map { _ in 0 }, variance: before.variance.map { _ in 0 }, count: 0)
  }
  var mean = [Double](repeating: 0, count: before.mean.count)
  var variance = mean
  for feature in mean.indices {
    mean[feature] =
      (after.mean[feature] * after.count - before.mean[feature] * before.count) / addedCount
    let delta = mean[feature] - before.mean[feature]
    let sumOfSquares =
      after.variance[feature] * after.count - before.variance[feature] * before.count
      - delta * delta * before.count * addedCount / after.count
    // Cancellation can leave a tiny negative sum of squares.
    variance[feature] = max(0, sumOfSquares / addedCount)
  }
  return RunningNormalizer.State(mean: mean, variance: variance, count: addedCount)
}

/// Returns a problem description when an increment is not usable: wrong
/// shape, non-finite values, a negative variance, or a count that differs
/// from the update's sample count (each sample is one observation row).
func statisticsProblem(
  _ increment: RunningNormalizer.State, featureCount: Int, sampleCount: Int
) -> String? {
  guard increment.mean.count == featureCount, increment.variance.count == featureCount else {
    return "observation statistics have \(increment.mean.count) features, expected \(featureCount)"
  }
  guard increment.count.isFinite, increment.count >= 0 else {
    return "observation statistics count \(increment.count) is not a non-negative number"
  }
  if let bad = (increment.mean + increment.variance).first(where: { !$0.isFinite }) {
    return "observation statistics contain non-finite value \(bad)"
  }
  if let negative = increment.variance.first(where: { $0 < 0 }) {
    return "observation statistics contain negative variance \(negative)"
  }
  guard increment.count == Double(sampleCount) else {
    return
      "observation statistics count \(increment.count), expected the sample count \(sampleCount)"
  }
  return nil
}
