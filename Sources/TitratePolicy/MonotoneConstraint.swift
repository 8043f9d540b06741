import TitrateEnvironments

/// An observation entry in which the greedy dose is monotone under a
/// `MonotoneConstraint`: raising the entry, all other entries fixed, never
/// lowers (`raisesDose`) or never raises (`lowersDose`) the chosen dose.
public struct MonotoneInput: Sendable, Hashable, Codable, CustomStringConvertible {
  /// The direction the dose may move when the entry grows.
  public enum Direction: String, Sendable, Hashable, Codable {
    /// A larger entry never gives a smaller dose (creatinine clearance).
    case raisesDose
    /// A larger entry never gives a larger dose (a measured trough).
    case lowersDose
  }

  /// Index of the entry in an observation row, from 0.
  public var index: Int
  public var direction: Direction

  public init(index: Int, direction: Direction) {
    self.index = index
    self.direction = direction
  }

  /// +1 for `raisesDose`, -1 for `lowersDose`.
  var sign: Float { direction == .raisesDose ? 1 : -1 }

  public var description: String {
    "a larger entry \(index) never \(direction == .raisesDose ? "lowers" : "raises") the dose"
  }
}

/// Raised when a list of monotone inputs does not fit the network.
public enum MonotoneConstraintError: Error, Equatable, CustomStringConvertible {
  case indexOutOfRange(index: Int, observationSize: Int)
  case duplicateIndex(Int)
  case tooFewLevels(Int)

  public var description: String {
    switch self {
    case .indexOutOfRange(let index, let size):
      "monotone input index \(index) is outside the observation (entries 0 to \(size - 1)); "
        + "use an index below \(size)"
    case .duplicateIndex(let index):
      "monotone input index \(index) is listed twice; give each entry one direction"
    case .tooFewLevels(let count):
      "monotone inputs need at least two ordered dose levels, and the action space has \(count)"
    }
  }
}

/// The set of policy-network weights on which the greedy action is a
/// monotone function of chosen inputs, and the Euclidean projection onto it
/// (applied after every optimiser step, so training is projected gradient
/// descent).
///
/// Write `t_i = s_i x_i` with `s_i = +1` for an input that raises the dose
/// and `-1` for one that lowers it. With tanh hidden layers (tanh is
/// increasing) and the observation normaliser (an increasing map per entry,
/// then clipping), the sign-constrained construction (Archer and Wang
/// 1993; Daniels and Velikova 2010, IEEE Trans Neural Netw 21:906) keeps
/// every hidden unit non-decreasing in every `t_i`:
/// - first hidden layer: the weight from input `i` has the sign `s_i` (or is
///   0); weights from the other inputs are free;
/// - later hidden layers: every weight is non-negative;
/// - discrete output (logits of ordered dose levels `0 ..< K`): in each
///   column, the weights are non-decreasing from level 0 to level `K - 1`.
///   Then `logit[k + 1] - logit[k]` is non-decreasing in every `t_i`, the
///   logits have increasing differences in (level, `t_i`), and the largest
///   logit moves to a level no lower when `t_i` grows (Topkis 1978, Oper
///   Res 26:305), for either rule of breaking ties;
/// - continuous output (one mean, mapped to the dose by an increasing affine
///   map): every weight is non-negative.
/// Without hidden layers, the output rule applies to the monotone inputs'
/// columns (times `s_i`) and the other columns are free.
///
/// The guarantee is exact in real arithmetic; in `Float` a logit difference
/// within rounding of a tie can decide either way.
public struct MonotoneConstraint: Sendable, Equatable {
  /// The constrained inputs, sorted by index.
  public let inputs: [MonotoneInput]

  /// - Throws: `MonotoneConstraintError` for an index outside
  ///   `0 ..< observationSize`, a repeated index, or a discrete action space
  ///   of fewer than two levels.
  public init(
    inputs: [MonotoneInput], observationSize: Int, actionSpace: ActionSpace
  ) throws(MonotoneConstraintError) {
    var seen = Set<Int>()
    for input in inputs {
      guard (0..<observationSize).contains(input.index) else {
        throw .indexOutOfRange(index: input.index, observationSize: observationSize)
      }
      guard seen.insert(input.index).inserted else { throw .duplicateIndex(input.index) }
    }
    if case .discrete(let count) = actionSpace, count < 2, !inputs.isEmpty {
      throw .tooFewLevels(count)
    }
    self.inputs = inputs.sorted { $0.index < $1.index }
  }

  /// Moves `network`'s weights to the nearest point (in each constrained
  /// group, Euclidean) of the constraint set. Biases stay free. Idempotent.
  public func project(_ network: inout MLP) {
    guard !inputs.isEmpty else { return }
    let last = network.layers.count - 1
    for layerIndex in network.layers.indices {
      let columns = network.layers[layerIndex].inputSize
      let rows = network.layers[layerIndex].outputSize
      network.layers[layerIndex].weight.values.withUnsafeMutableBufferPointer { weight in
        if layerIndex < last {
          if layerIndex == 0 {
            for input in inputs {
              for row in 0..<rows {
                let position = row * columns + input.index
                weight[position] = input.sign * max(0, input.sign * weight[position])
              }
            }
          } else {
            for position in weight.indices { weight[position] = max(0, weight[position]) }
          }
          return
        }
        // The output layer.
        for (column, sign) in outputColumnSigns(outputIsFirstLayer: last == 0, columns: columns) {
          if rows == 1 {
            weight[column] = sign * max(0, sign * weight[column])
          } else {
            var sequence = (0..<rows).map { Double(sign * weight[$0 * columns + column]) }
            Self.makeNonDecreasing(&sequence)
            for row in 0..<rows { weight[row * columns + column] = sign * Float(sequence[row]) }
          }
        }
      }
    }
  }

  /// Returns a sentence naming the first weight outside the constraint set,
  /// or nil when every weight satisfies it.
  public func violation(in network: MLP) -> String? {
    guard !inputs.isEmpty else { return nil }
    let last = network.layers.count - 1
    for (layerIndex, layer) in network.layers.enumerated() {
      let columns = layer.inputSize
      let weight = layer.weight.values
      func describe(_ row: Int, _ column: Int, _ rule: String) -> String {
        "policy/layer_\(layerIndex)/weight[\(row), \(column)] = \(weight[row * columns + column]) "
          + "breaks the monotone constraint (\(rule))"
      }
      if layerIndex < last {
        for row in 0..<layer.outputSize {
          if layerIndex == 0 {
            for input in inputs where input.sign * weight[row * columns + input.index] < 0 {
              return describe(
                row, input.index,
                "weights from observation entry \(input.index) must be "
                  + (input.direction == .raisesDose ? ">= 0" : "<= 0"))
            }
          } else {
            for column in 0..<columns where weight[row * columns + column] < 0 {
              return describe(row, column, "hidden-to-hidden weights must be >= 0")
            }
          }
        }
        continue
      }
      for (column, sign) in outputColumnSigns(outputIsFirstLayer: last == 0, columns: columns) {
        if layer.outputSize == 1 {
          if sign * weight[column] < 0 {
            return describe(0, column, "output weights must be >= 0 after the sign of the input")
          }
          continue
        }
        for row in 1..<layer.outputSize
        where sign * weight[row * columns + column] < sign * weight[(row - 1) * columns + column] {
          return describe(
            row, column, "output weights must not decrease from one level to the next")
        }
      }
    }
    return nil
  }

  /// Returns the output layer's constrained columns with the sign each
  /// carries: the monotone inputs' columns when the output layer reads the
  /// observation directly, otherwise every hidden unit with sign +1.
  private func outputColumnSigns(outputIsFirstLayer: Bool, columns: Int) -> [(
    column: Int, sign: Float
  )] {
    outputIsFirstLayer ? inputs.map { ($0.index, $0.sign) } : (0..<columns).map { ($0, 1) }
  }

  /// Replaces `values` by the non-decreasing sequence nearest to it in the
  /// least-squares sense (pool-adjacent-violators, equal weights).
  static func makeNonDecreasing(_ values: inout [Double]) {
    var means = [Double]()
    var sizes = [Int]()
    for value in values {
      means.append(value)
      sizes.append(1)
      while means.count > 1 && means[means.count - 2] > means[means.count - 1] {
        let size = sizes.removeLast()
        let mean = means.removeLast()
        let total = sizes[sizes.count - 1] + size
        means[means.count - 1] =
          (means[means.count - 1] * Double(sizes[sizes.count - 1]) + mean * Double(size))
          / Double(total)
        sizes[sizes.count - 1] = total
      }
    }
    var position = 0
    for (mean, size) in zip(means, sizes) {
      for _ in 0..<size {
        values[position] = mean
        position += 1
      }
    }
  }
}
