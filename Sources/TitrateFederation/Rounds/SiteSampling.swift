import TitrateRandom

/// The scheme that chooses the sites that train in a round.
///
/// Every scheme draws from a stream derived from the run seed and the round
/// number, so a resumed run samples the same sites as an uninterrupted one.
public enum SiteSampling: Codable, Sendable, Equatable {
  /// Every site trains every round (the default).
  case all
  /// m of the K sites, drawn uniformly without replacement; 1 <= m <= K.
  case fixedCount(Int)
  /// Each site takes part independently with probability q in (0, 1]
  /// (Poisson sampling, the scheme the Renyi accountant assumes).
  case poisson(rate: Double)

  /// Lists every problem for a run of `siteCount` sites; empty when valid.
  func problems(siteCount: Int) -> [String] {
    switch self {
    case .all:
      return []
    case .fixedCount(let count):
      guard (1...max(siteCount, 1)).contains(count) else {
        return [
          "siteSampling: \(count) sites per round is outside 1...\(siteCount) (the site count); "
            + "sample at most every site"
        ]
      }
      return []
    case .poisson(let rate):
      guard rate > 0 && rate <= 1 else {
        return ["siteSampling: Poisson rate \(rate) is outside (0, 1]; use a fraction of sites"]
      }
      return []
    }
  }

  /// Returns the probability q that one given site takes part in a round:
  /// 1, m / K or the Poisson rate. The accountant takes it as the sampling rate.
  func samplingRate(siteCount: Int) -> Double {
    switch self {
    case .all: return 1
    case .fixedCount(let count): return Double(count) / Double(siteCount)
    case .poisson(let rate): return rate
    }
  }

  /// Sites expected per round: K, m, or q K rounded to the nearest integer
  /// and at least 1. Central DP divides the noisy sum by it, and the
  /// configuration checks the strategy's bounds against it.
  func expectedParticipantCount(siteCount: Int) -> Int {
    switch self {
    case .all: return siteCount
    case .fixedCount(let count): return count
    case .poisson(let rate): return max(1, Int((rate * Double(siteCount)).rounded()))
    }
  }

  /// Returns the indices of the sites sampled in `round`, in ascending
  /// order.
  func sampledIndices(siteCount: Int, seed: UInt64, round: Int) -> [Int] {
    var generator = Xoshiro256(seed: seed, stream: Self.samplingStream + UInt64(round))
    switch self {
    case .all:
      return Array(0..<siteCount)
    case .fixedCount(let count):
      // Partial Fisher-Yates: the first `count` slots end up a uniform
      // sample without replacement.
      var order = Array(0..<siteCount)
      for slot in 0..<count {
        let remaining = siteCount - slot
        let pick = slot + min(Int(generator.nextUniform() * Double(remaining)), remaining - 1)
        order.swapAt(slot, pick)
      }
      return order.prefix(count).sorted()
    case .poisson(let rate):
      return (0..<siteCount).filter { _ in generator.nextUniform() < rate }
    }
  }

  static let samplingStream: UInt64 = 0x5A11_0000_0000
}

/// A failure of one site in one round, simulated for tests and research.
public enum SimulatedFailureKind: String, Codable, Sendable, Equatable, CaseIterable {
  /// The site does not train and sends nothing.
  case dropout
  /// The site trains, but its reply arrives after the round closed.
  case timeout
}

/// One scheduled failure: `site` fails in `round` in the way `kind` names.
public struct ScheduledSiteFailure: Codable, Sendable, Equatable {
  /// Name of the failing site.
  public var site: String
  /// Round of the failure, 1-based.
  public var round: Int
  /// Whether the site drops out before training or times out after it.
  public var kind: SimulatedFailureKind

  /// Creates a scheduled failure.
  public init(site: String, round: Int, kind: SimulatedFailureKind) {
    self.site = site
    self.round = round
    self.kind = kind
  }
}

/// Simulated site failures: a schedule, a per-round probability, or both.
public struct SiteFailureSimulation: Codable, Sendable, Equatable {
  /// Failures at fixed sites and rounds.
  public var scheduled: [ScheduledSiteFailure] = []
  /// Probability in [0, 1) that a sampled site drops out in a round, drawn
  /// from a stream seeded by the run seed and the round.
  public var dropoutProbability: Double = 0

  /// Creates a simulation; the default simulates no failure.
  public init(scheduled: [ScheduledSiteFailure] = [], dropoutProbability: Double = 0) {
    self.scheduled = scheduled
    self.dropoutProbability = dropoutProbability
  }

  func problems(siteNames: [String], rounds: Int) -> [String] {
    var found: [String] = []
    if !(0..<1).contains(dropoutProbability) {
      found.append(
        "siteFailures.dropoutProbability: \(dropoutProbability) is outside [0, 1); "
          + "use a probability below 1")
    }
    var seen: Set<String> = []
    for failure in scheduled {
      // Only the first failure of a site and round takes effect, so a second
      // one would be ignored without a word.
      if !seen.insert("\(failure.site):\(failure.round)").inserted {
        found.append(
          "siteFailures: site '\(failure.site)' is scheduled to fail twice in round "
            + "\(failure.round); give one failure a site and round")
      }
      if !siteNames.contains(failure.site) {
        found.append(
          "siteFailures: unknown site '\(failure.site)'; the sites are "
            + siteNames.joined(separator: ", "))
      }
      if !(1...max(rounds, 1)).contains(failure.round) {
        found.append(
          "siteFailures: round \(failure.round) for site '\(failure.site)' is outside 1...\(rounds)")
      }
    }
    return found
  }

  /// Returns the simulated failure of `siteIndex` in `round`, if any. A
  /// scheduled failure takes precedence over a random dropout.
  func failure(
    siteName: String, siteIndex: Int, round: Int, seed: UInt64
  ) -> SimulatedFailureKind? {
    if let scheduledFailure = scheduled.first(where: { $0.site == siteName && $0.round == round }) {
      return scheduledFailure.kind
    }
    guard dropoutProbability > 0 else { return nil }
    var generator = Xoshiro256(
      seed: seed, stream: Self.dropoutStream + UInt64(siteIndex) << 24 + UInt64(round))
    return generator.nextUniform() < dropoutProbability ? .dropout : nil
  }

  static let dropoutStream: UInt64 = 0xD809_0000_0000
}
