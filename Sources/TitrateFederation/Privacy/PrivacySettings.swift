/// Placement of the Gaussian noise of differential privacy.
public enum PrivacyNoisePlacement: String, Codable, Sendable, Equatable, CaseIterable {
  /// The aggregator clips every accepted delta and adds noise to their sum
  /// (DP-FedAvg, McMahan et al. 2018). Sites must trust the aggregator.
  case central
  /// Each site clips its own delta and adds noise before sending it, so the
  /// aggregator receives only privatised deltas.
  case local
}

/// Clipping rule applied to deltas before noise is added.
public enum PrivacyClipping: Codable, Sendable, Equatable {
  /// A fixed L2 clip norm C in parameter units, in (0, inf).
  case fixed(clipNorm: Double)
  /// A clip norm that follows a private quantile estimate of the update
  /// norms (Andrew et al. 2019); central noise only.
  case adaptive(AdaptiveClippingConfiguration)
}

/// Differential privacy of a federated run, at site level: two runs of
/// which one has a site, with all its data, that the other lacks
/// (add/remove neighbours) give output distributions within
/// (epsilon, delta). Runs that replace one site's data are not covered
/// directly, because they can move the clipped sum by 2C.
///
/// What the guarantee covers: the global models the aggregator releases.
/// The sample counts and the per-site outcome figures the trainer records
/// for monitoring are not privatised, so the configuration rejects the two
/// features that feed such figures back into training: federated
/// observation statistics and the cost constraint.
public struct DifferentialPrivacyConfiguration: Codable, Sendable, Equatable {
  /// Central (at the aggregator) or local (at each site) noise.
  public var placement: PrivacyNoisePlacement
  /// The clipping rule.
  public var clipping: PrivacyClipping
  /// z, in (0, inf): the noise standard deviation over the clip norm. With
  /// adaptive clipping it is the total multiplier that the accountant
  /// uses; the update sum then gets a slightly larger one.
  public var noiseMultiplier: Double
  /// delta of the reported (epsilon, delta), in (0, 1).
  public var delta: Double
  /// Training stops before a round that would push epsilon above this
  /// value; nil runs every configured round.
  public var epsilonBudget: Double?

  /// Creates the settings.
  public init(
    placement: PrivacyNoisePlacement = .central, clipping: PrivacyClipping,
    noiseMultiplier: Double, delta: Double = 1e-5, epsilonBudget: Double? = nil
  ) {
    self.placement = placement
    self.clipping = clipping
    self.noiseMultiplier = noiseMultiplier
    self.delta = delta
    self.epsilonBudget = epsilonBudget
  }

  /// The clip norm of the first round, in parameter units.
  public var initialClipNorm: Double {
    switch clipping {
    case .fixed(let clipNorm): return clipNorm
    case .adaptive(let configuration): return configuration.initialClipNorm
    }
  }

  /// Lists every invalid setting; empty when valid.
  func problems() -> [String] {
    var found: [String] = []
    switch clipping {
    case .fixed(let clipNorm):
      do {
        try GaussianPrivacyConfiguration(clipNorm: clipNorm, noiseMultiplier: noiseMultiplier)
          .validate()
      } catch {
        found.append("privacy: \(error)")
      }
    case .adaptive(let configuration):
      if placement == .local {
        found.append(
          "privacy: adaptive clipping needs the aggregator's noisy count of unclipped updates, "
            + "so it works with central noise only; use a fixed clip norm with local noise")
      }
      do {
        try configuration.validate(noiseMultiplier: noiseMultiplier)
      } catch {
        found.append("privacy: \(error)")
      }
    }
    if !(noiseMultiplier > 0 && noiseMultiplier.isFinite) {
      found.append(
        "privacy: noise multiplier \(noiseMultiplier) must be positive and finite; with 0 the "
          + "accountant reports an infinite epsilon")
    }
    if !(delta > 0 && delta < 1) {
      found.append("privacy: delta \(delta) is outside (0, 1); choose 1e-5 or less")
    }
    if let budget = epsilonBudget, !(budget > 0 && budget.isFinite) {
      found.append("privacy: epsilon budget \(budget) must be positive and finite")
    }
    return found
  }
}
