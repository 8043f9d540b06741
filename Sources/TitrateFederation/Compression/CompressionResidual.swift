/// The error-feedback memory of one site: per parameter, the part of its
/// past deltas that the encoding has not yet delivered.
///
/// Each round the site encodes `target = delta + residual` and keeps
/// `residual = target - decoded(sent)`. Summed over rounds, what the
/// aggregator decoded plus the final residual equals the sum of the
/// deltas, up to the Float64 rounding of `delta + residual` (one
/// rounding per parameter and round). The residual never contains NaN or
/// infinity: a non-finite entry is sent as it is, so the aggregator
/// rejects that update, and the site resets the entry to 0.
public struct CompressionResidual: Equatable, Sendable {
  /// Per parameter, what is still owed; empty before the first round.
  public private(set) var values: [Double] = []

  public init() {}

  /// Adds the residual to `delta`, encodes the sum with `compression`
  /// and keeps what the encoding lost. Under `.none` it returns `delta`
  /// itself, with the sign of each zero that adding a zero residual
  /// would lose, and the residual stays zero.
  mutating func compress(_ delta: [Double], with compression: UpdateCompression)
    -> CompressedDelta
  {
    if values.count != delta.count { values = Array(repeating: 0, count: delta.count) }
    var target = delta
    for index in target.indices { target[index] += values[index] }

    let encoded: CompressedDelta
    switch compression {
    case .none:
      return .float64(delta)
    case .float16:
      let largest = Double(Float16.greatestFiniteMagnitude)
      encoded = .float16(
        target.map { $0.isNaN ? Float16.nan : Float16(min(max($0, -largest), largest)) })
    case .int8(let blockSize):
      encoded = Self.quantise(target, blockSize: blockSize)
    case .topK(let fraction):
      encoded = Self.sparsify(target, fraction: fraction)
    }

    let sent = encoded.decoded()
    for index in target.indices {
      let owed = target[index] - sent[index]
      values[index] = owed.isFinite ? owed : 0
    }
    return encoded
  }

  /// Quantises each block to integers in -127...127 of one Float32 scale.
  /// A block with a non-finite value gets a non-finite scale, which the
  /// aggregator rejects. A block of zeros, or of values too small for a
  /// Float32 scale, sends zeros and keeps the values in the residual.
  static func quantise(_ target: [Double], blockSize: Int) -> CompressedDelta {
    var scales: [Float] = []
    scales.reserveCapacity((target.count + blockSize - 1) / blockSize)
    var quantised = [Int8](repeating: 0, count: target.count)
    for start in stride(from: 0, to: target.count, by: blockSize) {
      let block = start..<min(start + blockSize, target.count)
      var largest = 0.0
      for index in block {
        // `max` would drop a NaN, so NaN is passed on explicitly.
        let magnitude = abs(target[index])
        largest = magnitude.isNaN || largest.isNaN ? .nan : max(largest, magnitude)
      }
      let scale =
        largest.isFinite
        ? Float(min(largest / 127, Double(Float.greatestFiniteMagnitude))) : Float(largest)
      scales.append(scale)
      guard scale.isFinite, scale > 0 else { continue }
      for index in block {
        let steps = (target[index] / Double(scale)).rounded(.toNearestOrAwayFromZero)
        quantised[index] = Int8(min(max(steps, -127), 127))
      }
    }
    return .int8(blockSize: blockSize, scales: scales, values: quantised)
  }

  /// Keeps the `keptCount(of:)` entries of largest magnitude, ties to the
  /// lower index. NaN counts as the largest magnitude, so it is sent and
  /// the aggregator rejects the update.
  static func sparsify(_ target: [Double], fraction: Double) -> CompressedDelta {
    precondition(
      target.count <= Int(UInt32.max), "top-k indices are UInt32; got \(target.count) values")
    let kept = UpdateCompression.topK(fraction: fraction).keptCount(of: target.count)
    let magnitudes = target.map { $0.isNaN ? Double.infinity : abs($0) }
    let ranked = target.indices.sorted {
      magnitudes[$0] > magnitudes[$1] || (magnitudes[$0] == magnitudes[$1] && $0 < $1)
    }
    let indices = ranked.prefix(kept).sorted()
    let largest = Double(Float.greatestFiniteMagnitude)
    let values = indices.map { index -> Float in
      let value = target[index]
      return value.isNaN ? .nan : Float(min(max(value, -largest), largest))
    }
    return .topK(
      fraction: fraction, count: target.count, indices: indices.map { UInt32($0) }, values: values)
  }
}
