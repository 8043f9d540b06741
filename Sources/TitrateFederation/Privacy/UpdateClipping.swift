/// An update delta after L2 clipping.
public struct ClippedDelta: Equatable, Sendable {
  /// The delta scaled by min(1, C / ||delta||).
  public var delta: [Double]
  /// ||delta|| before clipping, in the units of the parameters.
  public var originalNorm: Double
  /// Whether the norm was above C and the delta was scaled down. Adaptive
  /// clipping counts the updates with `wasClipped == false`.
  public var wasClipped: Bool
}

/// Euclidean norm of a vector, scaled by its largest magnitude so that the
/// squares cannot overflow or underflow.
public func euclideanNorm(_ vector: [Double]) -> Double {
  let largest = vector.reduce(0.0) { max($0, abs($1)) }
  guard largest > 0 && largest.isFinite else { return largest }
  var sum = 0.0
  for value in vector {
    let scaled = value / largest
    sum += scaled * scaled
  }
  return largest * sum.squareRoot()
}

/// Clips a delta to L2 norm `clipNorm` (the flat clipping of McMahan et
/// al., "Learning Differentially Private Recurrent Language Models", ICLR
/// 2018): delta * min(1, C / ||delta||).
///
/// A delta with norm C or less, the zero vector included, is returned
/// unchanged, so no division by a zero norm happens.
/// - Parameter clipNorm: C > 0, in the units of the parameters.
/// - Precondition: C is positive and finite.
public func clipDelta(_ delta: [Double], clipNorm: Double) -> ClippedDelta {
  precondition(clipNorm > 0 && clipNorm.isFinite, "clip norm must be positive, got \(clipNorm)")
  let norm = euclideanNorm(delta)
  guard norm > clipNorm else {
    return ClippedDelta(delta: delta, originalNorm: norm, wasClipped: false)
  }
  let factor = clipNorm / norm
  return ClippedDelta(delta: delta.map { $0 * factor }, originalNorm: norm, wasClipped: true)
}
