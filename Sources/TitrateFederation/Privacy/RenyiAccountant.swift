#if canImport(Glibc)
  import Glibc
#endif

/// Privacy loss (epsilon, delta) and the RDP order that attains it.
public struct PrivacySpent: Equatable, Sendable {
  /// epsilon in nats, 0 or more; +infinity when no order gives a bound.
  public var epsilon: Double
  /// The order alpha whose bound is smallest; nil when epsilon is infinite.
  public var optimalOrder: Double?
}

/// Renyi-DP accountant for rounds of the sampled Gaussian mechanism.
///
/// It stores the RDP summed over all rounds at each order. RDP composes by
/// addition, so T rounds with one (q, z) add T times the one-round value,
/// and rounds with different settings add their own values. The state is
/// plain arrays of `Double`, so a checkpoint can store it.
///
/// NOTE: the bound assumes Poisson sampling of sites with rate q. A round
/// that samples a fixed number m of N sites without replacement is
/// accounted with q = m / N, which approximates but is not a proven bound
/// for that scheme.
public struct RenyiAccountant: Codable, Sendable, Equatable {
  /// The orders Opacus 1.6's `RDPAccountant` uses by default: 1.1 to 10.9
  /// in steps of 0.1, then the integers 12 to 63.
  public static let defaultOrders: [Double] =
    (1...99).map { 1 + Double($0) / 10 } + (12...63).map(Double.init)

  /// RDP orders alpha, each above 1.
  public private(set) var orders: [Double]
  /// Total RDP so far at each order, in nats.
  public private(set) var totalRDP: [Double]

  /// Creates an accountant with nothing spent.
  /// - Throws: `PrivacyConfigurationError` when an order is not above 1 or
  ///   the list is empty.
  public init(orders: [Double] = RenyiAccountant.defaultOrders)
    throws(PrivacyConfigurationError)
  {
    guard !orders.isEmpty else {
      throw .parameterOutOfRange(
        name: "number of RDP orders", value: 0, allowed: "[1, inf)", fix: "give at least one order")
    }
    if let bad = orders.first(where: { !($0 > 1 && $0.isFinite) }) {
      throw .parameterOutOfRange(
        name: "RDP order", value: bad, allowed: "(1, inf)", fix: "use finite orders above 1")
    }
    self.orders = orders
    self.totalRDP = [Double](repeating: 0, count: orders.count)
  }

  /// Restores a stored accountant.
  /// - Precondition: both arrays have one length.
  public init(orders: [Double], totalRDP: [Double]) {
    precondition(orders.count == totalRDP.count, "orders and RDP values differ in count")
    self.orders = orders
    self.totalRDP = totalRDP
  }

  /// Adds `rounds` rounds of the sampled Gaussian mechanism.
  ///
  /// - Parameters:
  ///   - noiseMultiplier: z >= 0, the noise standard deviation over the
  ///     clip norm, for the sum of the clipped updates.
  ///   - samplingRate: q in [0, 1], the probability that a site takes part
  ///     in a round.
  ///   - rounds: 0 or more.
  /// - Throws: `PrivacyConfigurationError` for values out of range; the
  ///   accountant is then unchanged.
  public mutating func compose(noiseMultiplier: Double, samplingRate: Double, rounds: Int)
    throws(PrivacyConfigurationError)
  {
    guard noiseMultiplier >= 0 && noiseMultiplier.isFinite else {
      throw .parameterOutOfRange(
        name: "noise multiplier", value: noiseMultiplier, allowed: "[0, inf)",
        fix: "set a finite multiplier, 0 or more")
    }
    guard (0...1).contains(samplingRate) else {
      throw .parameterOutOfRange(
        name: "sampling rate", value: samplingRate, allowed: "[0, 1]",
        fix: "set the fraction of sites sampled per round")
    }
    guard rounds >= 0 else {
      throw .parameterOutOfRange(
        name: "rounds", value: Double(rounds), allowed: "[0, inf)", fix: "count rounds from 0")
    }
    for index in orders.indices {
      let perRound = SampledGaussianRDP.rdp(
        order: orders[index], samplingRate: samplingRate, noiseMultiplier: noiseMultiplier)
      totalRDP[index] += Double(rounds) * perRound
    }
  }

  /// Converts the total RDP to (epsilon, delta)-DP.
  ///
  /// Uses the conversion of Balle et al., "Hypothesis Testing
  /// Interpretations and Renyi Differential Privacy", AISTATS 2020
  /// (Theorem 21), as Opacus does:
  /// epsilon = min over alpha of rdp(alpha) + log((alpha - 1) / alpha)
  /// - (log(delta) + log(alpha)) / (alpha - 1). It is never larger than
  /// the classic rdp(alpha) + log(1 / delta) / (alpha - 1). A negative
  /// minimum is reported as 0.
  /// - Parameter delta: in (0, 1).
  /// - Throws: `PrivacyConfigurationError` when delta is outside (0, 1).
  public func privacySpent(delta: Double) throws(PrivacyConfigurationError) -> PrivacySpent {
    guard delta > 0 && delta < 1 else {
      throw .parameterOutOfRange(
        name: "delta", value: delta, allowed: "(0, 1)",
        fix: "choose delta well below 1 / (number of patients)")
    }
    var best = PrivacySpent(epsilon: .infinity, optimalOrder: nil)
    for (alpha, rdp) in zip(orders, totalRDP) {
      let epsilon =
        rdp + log((alpha - 1) / alpha) - (log(delta) + log(alpha)) / (alpha - 1)
      if epsilon < best.epsilon {
        best = PrivacySpent(epsilon: epsilon, optimalOrder: alpha)
      }
    }
    best.epsilon = max(0, best.epsilon)
    return best
  }
}
