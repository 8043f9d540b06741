/// Maps update values to integers modulo 2^k and sums back to values.
///
/// A value x is clipped to [-c, c] and becomes round((x + c) / step),
/// with step = 2c / L and L = 2^b - 1, rounding half away from zero.
/// The rounding is deterministic, so a resumed run quantises exactly as
/// an uninterrupted one. A sum of m quantised values decodes to
/// sum * step - m c, within m step / 2 of the clipped values' sum.
public struct FixedPointQuantizer: Sendable, Equatable {
  /// c, parameter units.
  public let clipRange: Double
  /// b.
  public let quantizationBits: Int
  /// k.
  public let modulusBits: Int

  /// Creates the quantiser.
  /// - Precondition: c > 0, 1 <= b <= 52, b < k <= 53.
  public init(clipRange: Double, quantizationBits: Int, modulusBits: Int) {
    precondition(clipRange > 0 && clipRange.isFinite, "clipRange \(clipRange) must be positive")
    precondition(
      (1...52).contains(quantizationBits) && quantizationBits < modulusBits && modulusBits <= 53,
      "quantizationBits \(quantizationBits) and modulusBits \(modulusBits) need 1 <= b < k <= 53")
    self.clipRange = clipRange
    self.quantizationBits = quantizationBits
    self.modulusBits = modulusBits
  }

  /// L = 2^b - 1, the largest quantised value.
  public var maximumLevel: UInt64 { (1 << UInt64(quantizationBits)) - 1 }

  /// The quantisation step 2c / L, parameter units.
  public var step: Double { 2 * clipRange / Double(maximumLevel) }

  /// The mask 2^k - 1 that reduces a word modulo 2^k.
  public var modulusMask: UInt64 { (1 << UInt64(modulusBits)) - 1 }

  /// Returns the quantised value of x; NaN counts as 0.
  public func quantize(_ x: Double) -> UInt64 {
    let clipped = x.isNaN ? 0 : min(max(x, -clipRange), clipRange)
    let level = ((clipped + clipRange) / step).rounded(.toNearestOrAwayFromZero)
    return min(UInt64(max(level, 0)), maximumLevel)
  }

  /// Returns the sum of `count` clipped values from the sum of their
  /// quantised words (already reduced modulo 2^k).
  public func dequantizeSum(_ sum: UInt64, count: Int) -> Double {
    Double(sum) * step - Double(count) * clipRange
  }

  /// Returns the quantised weight round(w L) of a weight w in [0, 1].
  public func quantizeWeight(_ weight: Double) -> UInt64 {
    let clipped = weight.isNaN ? 0 : min(max(weight, 0), 1)
    return UInt64((clipped * Double(maximumLevel)).rounded(.toNearestOrAwayFromZero))
  }

  /// Returns the sum of weights from the sum of quantised weights.
  public func dequantizeWeightSum(_ sum: UInt64) -> Double {
    Double(sum) / Double(maximumLevel)
  }

  /// Returns the input vector of one site: its quantised weight first,
  /// then the quantised values of weight x update.
  ///
  /// Weighted FedAvg under masking: the server only learns
  /// sum_i w_i x_i and sum_i w_i, and divides the two. With uniform
  /// weights every site sends w = 1.
  public func encodeInput(update: [Double], weight: Double) -> [UInt64] {
    var words = [quantizeWeight(weight)]
    words.reserveCapacity(update.count + 1)
    for value in update { words.append(quantize(weight * value)) }
    return words
  }
}
