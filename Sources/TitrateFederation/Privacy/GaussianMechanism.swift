/// Settings of the Gaussian mechanism on clipped updates: the clip norm C
/// and the noise multiplier z. Central DP (`privateAverage`) adds the noise
/// at the aggregator, local DP (`locallyPrivateDelta`) at each site.
public struct GaussianPrivacyConfiguration: Codable, Sendable, Equatable {
  /// C, in (0, inf), in the units of the parameters.
  public var clipNorm: Double
  /// z, in [0, inf): the noise standard deviation on the sum of clipped
  /// updates, in units of C. The accountant takes the same z.
  public var noiseMultiplier: Double

  /// Creates the settings.
  public init(clipNorm: Double, noiseMultiplier: Double) {
    self.clipNorm = clipNorm
    self.noiseMultiplier = noiseMultiplier
  }

  /// Checks the ranges.
  /// - Throws: `PrivacyConfigurationError` naming the first bad value.
  public func validate() throws(PrivacyConfigurationError) {
    guard clipNorm > 0 && clipNorm.isFinite else {
      throw .parameterOutOfRange(
        name: "clip norm C", value: clipNorm, allowed: "(0, inf)",
        fix: "set a positive clip norm in parameter units")
    }
    guard noiseMultiplier >= 0 && noiseMultiplier.isFinite else {
      throw .parameterOutOfRange(
        name: "noise multiplier z", value: noiseMultiplier, allowed: "[0, inf)",
        fix: "set a finite multiplier, 0 or more")
    }
  }
}

/// The noisy average of one round and what went into it.
public struct PrivateAverage: Equatable, Sendable {
  /// (sum of clipped deltas + N(0, (z C)^2 I)) / m.
  public var average: [Double]
  /// Standard deviation of the noise on each coordinate of the average:
  /// z C / m, in parameter units.
  public var noiseStandardDeviation: Double
  /// Number of updates whose norm was at most C before clipping.
  public var unclippedCount: Int
}

/// Averages deltas under central differential privacy (the Gaussian
/// mechanism on the clipped sum, as in DP-FedAvg of McMahan et al. 2018).
///
/// Weighting rule: every site counts 1 / m whatever its sample count,
/// because the mechanism bounds one site's influence on the average by
/// C / m only under uniform weights. Weighting by sample count would let a
/// large site move the average by more than C / m while the noise stays at
/// z C / m.
///
/// - Parameters:
///   - deltas: the round's deltas, validated and of one length.
///   - configuration: clip norm C and noise multiplier z.
///   - participantCount: m, the denominator. Pass the number of sites
///     sampled for the round, fixed before replies arrive, not a count that
///     depends on the data. Fewer replies bias the average toward zero but
///     keep the privacy bound.
///   - generator: the source of the Gaussian noise.
/// - Precondition: `deltas` is non-empty, of one length, and m >= 1; the
///   configuration is valid.
public func privateAverage(
  _ deltas: [[Double]], configuration: GaussianPrivacyConfiguration, participantCount: Int,
  generator: inout some RandomNumberGenerator
) -> PrivateAverage {
  precondition(!deltas.isEmpty, "privateAverage needs at least one delta")
  let clipped = clippedSum(deltas, clipNorm: configuration.clipNorm)
  return noisyAverage(
    ofClippedSum: clipped, configuration: configuration, participantCount: participantCount,
    generator: &generator)
}

/// The sum of L2-clipped deltas and how many of them needed no clipping.
/// Sums of several groups of deltas add up coordinate by coordinate, which
/// lets MPI ranks clip and sum their own sites.
public struct ClippedSum: Equatable, Sendable {
  /// Sum over the deltas of delta * min(1, C / ||delta||), in parameter
  /// units.
  public var sum: [Double]
  /// Number of deltas whose norm was at most C.
  public var unclippedCount: Int
  /// Number of deltas in the sum, clipped or not.
  public var deltaCount: Int

  /// Creates a sum from its parts.
  public init(sum: [Double], unclippedCount: Int, deltaCount: Int) {
    self.sum = sum
    self.unclippedCount = unclippedCount
    self.deltaCount = deltaCount
  }
}

/// Clips each delta to L2 norm `clipNorm` and adds them in the given
/// order.
/// - Precondition: `deltas` is non-empty and of one length; C is positive
///   and finite.
public func clippedSum(_ deltas: [[Double]], clipNorm: Double) -> ClippedSum {
  precondition(!deltas.isEmpty, "clippedSum needs at least one delta")
  var sum = [Double](repeating: 0, count: deltas[0].count)
  var unclipped = 0
  for delta in deltas {
    precondition(delta.count == sum.count, "deltas differ in length")
    let clipped = clipDelta(delta, clipNorm: clipNorm)
    if !clipped.wasClipped { unclipped += 1 }
    for index in sum.indices {
      sum[index] += clipped.delta[index]
    }
  }
  return ClippedSum(sum: sum, unclippedCount: unclipped, deltaCount: deltas.count)
}

/// Adds N(0, (z C)^2) to each coordinate of a clipped sum and divides by
/// m: the release step of `privateAverage`, for sums formed elsewhere.
/// - Parameters:
///   - clipped: deltas clipped with `configuration.clipNorm`, summed.
///   - participantCount: m, as in `privateAverage`.
/// - Precondition: m >= 1; the configuration is valid.
public func noisyAverage(
  ofClippedSum clipped: ClippedSum, configuration: GaussianPrivacyConfiguration,
  participantCount: Int, generator: inout some RandomNumberGenerator
) -> PrivateAverage {
  precondition(participantCount >= 1, "participant count must be 1 or more")
  let sumStandardDeviation = configuration.noiseMultiplier * configuration.clipNorm
  let count = Double(participantCount)
  let average = clipped.sum.map {
    ($0 + sumStandardDeviation * generator.nextStandardNormal()) / count
  }
  return PrivateAverage(
    average: average, noiseStandardDeviation: sumStandardDeviation / count,
    unclippedCount: clipped.unclippedCount)
}

/// Privatises one site's delta before it leaves the site (local
/// differential privacy): clip to L2 norm C, then add N(0, (z C)^2) to each
/// coordinate.
///
/// Each release is a Gaussian mechanism with sensitivity C, so a site that
/// takes part in T rounds is accounted as T rounds with sampling rate 1
/// and noise multiplier z: RDP alpha / (2 z^2) per round. The aggregator
/// needs no trust, but the noise on the average is z C / sqrt(m) instead
/// of z C / m.
/// - Precondition: the configuration is valid.
public func locallyPrivateDelta(
  _ delta: [Double], configuration: GaussianPrivacyConfiguration,
  generator: inout some RandomNumberGenerator
) -> [Double] {
  let clipped = clipDelta(delta, clipNorm: configuration.clipNorm)
  let standardDeviation = configuration.noiseMultiplier * configuration.clipNorm
  return clipped.delta.map { $0 + standardDeviation * generator.nextStandardNormal() }
}
