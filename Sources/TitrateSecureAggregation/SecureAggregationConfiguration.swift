import Foundation

/// Settings of secure aggregation (SecAgg+), stored with the run
/// configuration.
///
/// Sites quantise each update value x, clipped to [-clipRange, clipRange],
/// to an integer in [0, 2^quantizationBits - 1] and mask it modulo
/// 2^modulusBits. The unmasked sum is exact as long as
/// sites x (2^quantizationBits - 1) < 2^modulusBits, which `problems`
/// checks before any round.
public struct SecureAggregationConfiguration: Codable, Sendable, Equatable {
  /// t, the shares that rebuild a secret, 2...neighbours. nil uses a
  /// majority of each site's neighbours: floor(k / 2) + 1. Up to t - 1
  /// colluding sites (plus the server) learn nothing about a secret, and
  /// a round aborts when fewer than t holders of some needed secret
  /// survive.
  public var threshold: Int? = nil
  /// k, the neighbours each site shares its secrets with and masks against
  /// (Bell et al. 2020), an even number in 2...sites - 1. nil, or any k >=
  /// sites - 1, gives the complete graph of the original SecAgg
  /// (Bonawitz et al. 2017).
  public var neighbourCount: Int? = nil
  /// c, the clip range of update values in parameter units, in (0, 1e6].
  /// Values outside [-c, c] are clipped before quantisation.
  public var clipRange: Double = 1
  /// Bits of the quantised value, 1...52: [-c, c] maps onto
  /// 0 ... 2^bits - 1, a step of 2c / (2^bits - 1).
  public var quantizationBits: Int = 24
  /// k of the modulus 2^k of the masked sum, 2...53 (53 so that the sum
  /// converts to Double exactly).
  public var modulusBits: Int = 32

  /// Creates the settings; see each property for its range.
  public init(
    threshold: Int? = nil, neighbourCount: Int? = nil, clipRange: Double = 1,
    quantizationBits: Int = 24, modulusBits: Int = 32
  ) {
    self.threshold = threshold
    self.neighbourCount = neighbourCount
    self.clipRange = clipRange
    self.quantizationBits = quantizationBits
    self.modulusBits = modulusBits
  }

  /// The quantiser these settings define.
  /// - Precondition: the settings are valid (`problems` is empty).
  public var quantizer: FixedPointQuantizer {
    FixedPointQuantizer(
      clipRange: clipRange, quantizationBits: quantizationBits, modulusBits: modulusBits)
  }

  /// Returns the neighbour count used in a round of `participantCount`
  /// sites: the configured k, or the complete graph's n - 1 when k is
  /// nil or at least n - 1.
  public func effectiveNeighbourCount(participantCount n: Int) -> Int {
    guard let k = neighbourCount, k < n - 1 else { return max(n - 1, 0) }
    return k
  }

  /// Returns the threshold used in a round of `participantCount` sites.
  public func effectiveThreshold(participantCount n: Int) -> Int {
    threshold ?? effectiveNeighbourCount(participantCount: n) / 2 + 1
  }

  /// Lists every invalid setting for a run of `siteCount` sites, of which
  /// `expectedParticipantCount` take part in a round; empty when valid.
  public func problems(siteCount: Int, expectedParticipantCount: Int) -> [String] {
    var found: [String] = []
    if !(clipRange > 0 && clipRange <= 1e6) {
      found.append(
        "secureAggregation.clipRange: \(clipRange) is outside (0, 1e6]; choose a bound on the "
          + "size of one update value, for example 1")
    }
    if !(2...53).contains(modulusBits) {
      found.append(
        "secureAggregation.modulusBits: \(modulusBits) is outside 2...53; 32 suits most runs")
    }
    if !(1...52).contains(quantizationBits) {
      found.append("secureAggregation.quantizationBits: \(quantizationBits) is outside 1...52")
    } else if (2...53).contains(modulusBits) {
      found += overflowProblems(siteCount: siteCount)
    }
    let n = expectedParticipantCount
    if let k = neighbourCount, !(k >= 2 && (k % 2 == 0 || k >= n - 1)) {
      found.append(
        "secureAggregation.neighbourCount: \(k) must be even and at least 2 (the ring gives "
          + "each site k / 2 neighbours on each side), or at least \(n - 1) for the complete "
          + "graph; with \(n) sites per round use an even k up to \(n - 1)")
    }
    let k = effectiveNeighbourCount(participantCount: n)
    let t = effectiveThreshold(participantCount: n)
    if k < 2 {
      found.append(
        "secureAggregation: \(n) sites per round leave each site \(k) neighbours; secure "
          + "aggregation needs at least 3 sites per round so that every secret has 2 or more "
          + "share holders")
    } else if !(2...k).contains(t) {
      found.append(
        "secureAggregation.threshold: \(t) is outside 2...\(k) (the neighbours of each site "
          + "with \(n) sites per round); a threshold of 1 would hand the secret to any one "
          + "holder, and one above k could never be met")
    }
    return found
  }

  /// The overflow check: n sites, each contributing at most 2^b - 1 per
  /// word, must sum below 2^k.
  func overflowProblems(siteCount: Int) -> [String] {
    let maximumWord = (UInt64(1) << UInt64(quantizationBits)) - 1
    let product = UInt64(max(siteCount, 1)).multipliedReportingOverflow(by: maximumWord)
    let modulus = UInt64(1) << UInt64(modulusBits)
    guard product.overflow || product.partialValue >= modulus else { return [] }
    // The smallest k with n L < 2^k.
    let neededBits = Int(log2(Double(max(siteCount, 1)) * Double(maximumWord)).rounded(.down)) + 1
    return [
      "secureAggregation: \(siteCount) sites x \(maximumWord) (the largest value of a "
        + "\(quantizationBits)-bit quantised word) does not fit the modulus 2^\(modulusBits); "
        + "the masked sum would wrap around. Raise --secagg-modulus-bits to \(neededBits) "
        + "or more, or lower --secagg-quantization-bits"
    ]
  }
}
