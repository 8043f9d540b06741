/// A model delta in the form that crosses the wire, one case per
/// `UpdateCompression` scheme.
enum CompressedDelta: Equatable, Sendable {
  /// Every value as Float64.
  case float64([Double])
  /// Every value as IEEE 754 half precision.
  case float16([Float16])
  /// One Float32 scale per block of `blockSize` values and one integer in
  /// -127...127 per value; the value is `q * scale`.
  case int8(blockSize: Int, scales: [Float], values: [Int8])
  /// The kept entries of a delta of `count` values: strictly increasing
  /// indices and their Float32 values. Every other entry is 0.
  case topK(fraction: Double, count: Int, indices: [UInt32], values: [Float])

  /// The scheme and parameters this delta was encoded with.
  var compression: UpdateCompression {
    switch self {
    case .float64: return .none
    case .float16: return .float16
    case .int8(let blockSize, _, _): return .int8(blockSize: blockSize)
    case .topK(let fraction, _, _, _): return .topK(fraction: fraction)
    }
  }

  /// Number of values of the dense delta.
  var count: Int {
    switch self {
    case .float64(let values): return values.count
    case .float16(let halves): return halves.count
    case .int8(_, _, let values): return values.count
    case .topK(_, let count, _, _): return count
    }
  }

  /// Checks the layout and the scheme's parameters: what a decoder of
  /// untrusted bytes must know before it expands the delta.
  /// - Parameter parameterCount: the model's parameter count, or nil to
  ///   skip that check.
  /// - Throws: `UpdateCompressionError.malformed` naming the first problem.
  func validate(parameterCount: Int?) throws {
    let name = compression.scheme.rawValue
    func fail(_ detail: String) -> UpdateCompressionError {
      .malformed(scheme: name, detail: detail)
    }
    // An empty uncompressed delta is a report without an update, which
    // sites running their half of secure aggregation send. Other runs
    // reject it later, in the update checks, by shape.
    let reportOnly = count == 0 && compression.scheme == .none
    if let parameterCount, count != parameterCount, !reportOnly {
      throw fail("\(count) values for a model of \(parameterCount) parameters")
    }
    switch self {
    case .float64, .float16:
      return
    case .int8(let blockSize, let scales, let values):
      guard UpdateCompression.int8BlockSizes.contains(blockSize) else {
        throw fail("block size \(blockSize) is outside 8-65536")
      }
      let blocks = (values.count + blockSize - 1) / blockSize
      guard scales.count == blocks else {
        throw fail(
          "\(scales.count) scales for \(values.count) values in blocks of \(blockSize), "
            + "expected \(blocks)")
      }
      if let block = scales.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
        throw fail("scale of block \(block) is \(scales[block]); a scale must be finite and >= 0")
      }
      if let index = values.firstIndex(of: Int8.min) {
        throw fail("value \(index) is -128, outside the symmetric range -127...127")
      }
    case .topK(let fraction, let count, let indices, let values):
      guard fraction > 0, fraction <= 1 else {
        throw fail("kept fraction \(fraction) is outside (0, 1]")
      }
      guard count >= 0, count <= Int(UInt32.max) else {
        throw fail("dense length \(count) is outside 0-\(UInt32.max)")
      }
      let kept = compression.keptCount(of: count)
      guard indices.count == kept, values.count == kept else {
        throw fail(
          "\(indices.count) indices and \(values.count) values, expected \(kept) "
            + "(fraction \(fraction) of \(count))")
      }
      var previous: UInt32?
      for (position, index) in indices.enumerated() {
        guard Int(index) < count else {
          throw fail("index \(index) at position \(position) is beyond the \(count) values")
        }
        if let previous, index <= previous {
          throw fail(
            "index \(index) at position \(position) does not follow \(previous); indices must "
              + "be strictly increasing")
        }
        previous = index
      }
    }
  }

  /// Expands the delta to one Float64 per parameter. Call `validate`
  /// first on bytes from another process.
  func decoded() -> [Double] {
    switch self {
    case .float64(let values):
      return values
    case .float16(let halves):
      return halves.map { Double($0) }
    case .int8(let blockSize, let scales, let values):
      return values.indices.map { Double(values[$0]) * Double(scales[$0 / blockSize]) }
    case .topK(_, let count, let indices, let values):
      var dense = [Double](repeating: 0, count: count)
      for (index, value) in zip(indices, values) { dense[Int(index)] = Double(value) }
      return dense
    }
  }
}
