import TitrateEnvironments
import TitrateKernels
import TitrateLinearAlgebra

/// Deterministic actions of a policy network for large observation
/// batches, computed tile by tile in buffers that are allocated once.
///
/// For each tile of `tileRows` observations the evaluator normalises the
/// raw observations (when it has a normaliser), starts each layer's output
/// from its bias and adds the layer's `cblas_sgemm` product to it, applies
/// tanh on hidden layers, and reduces the output layer straight to actions. A tile's
/// activations stay in cache between layers. `actions(observations:count:
/// into:)` allocates only when the array it writes into has another length
/// than the batch, and `policyOutputs` only when it reshapes its matrix.
///
/// Compared with `RunningNormalizer.normalize` followed by
/// `ActorCritic.actions(deterministic: true)` on the whole batch (the
/// reference path), normalisation, bias, tanh and argmax round the same
/// way, but OpenBLAS 0.3.21 rounds a row of a product differently
/// depending on how many rows the product has. So:
/// - a batch of at most `tileRows` observations gets bit-identical
///   outputs and actions;
/// - a larger batch gets outputs within a few Float ulps (at most 2.8e-6
///   relative to max(1, |output|) measured with random 21-64-64-13
///   networks), and the same actions unless two logits of a row are that
///   close. `PolicyEvaluatorTests` checks both on 20,011 random rows.
///
/// The evaluator keeps a copy of the policy parameters, so later changes
/// to the network are not seen. A copy of the evaluator shares its scratch
/// buffers until either copy evaluates, which then allocates its own.
public struct PolicyEvaluator: Sendable {
  /// Default tile height. A tile of 128 rows of 64 activations is 32 KiB,
  /// the L1 data cache of the 2-vCPU AMD EPYC (Zen 4) where it was chosen.
  /// There, with one BLAS thread and a 21-64-64-13 network over 100,000
  /// rows, tiles of 64 to 256 rows ran 2-5 % faster than 512-row tiles.
  public static let defaultTileRows = 128

  /// Features per observation, as in the network.
  public let observationSize: Int
  /// The network's action space, which decides how outputs become actions.
  public let actionSpace: ActionSpace
  /// Observations per tile, at least 1.
  public let tileRows: Int

  private let outputSizes: [Int]
  // Transposed weights (row-major `in x out`) and biases of every layer,
  // layer by layer, and where each starts. OpenBLAS 0.3.21 multiplies by an
  // untransposed right-hand side faster: 12.6 ms against 15.4 ms for the
  // three products of a 21-64-64-13 network over 100,000 rows in 512-row
  // tiles (the default tile height then), one thread, measured on a 2-vCPU AMD EPYC (Zen 4).
  private let parameters: [Float]
  private let weightOffsets: [Int]
  private let biasOffsets: [Int]
  // Float coefficients of the normaliser, each feature's repeated for the
  // `normalizationBlockRows` rows of a block, empty without a normaliser.
  private let normalizationMeans: [Float]
  private let normalizationScales: [Float]
  // The normalised input tile, then two activation tiles of the widest
  // layer that consecutive layers alternate between.
  private var scratch: [Float]
  private let activationTileCount: Int
  /// Tanh and normalisation at the instruction-set level chosen at run
  /// time. Every level gives identical bits.
  let kernels: ElementwiseKernels

  /// Creates an evaluator for the policy part of `network`.
  ///
  /// - Parameters:
  ///   - normalizer: observation statistics applied before the network,
  ///     exactly as `RunningNormalizer.normalize` applies them. Nil feeds
  ///     observations unchanged.
  ///   - tileRows: observations per tile, at least 1.
  /// - Precondition: the normaliser has `network.observationSize` features.
  public init(
    network: ActorCritic, normalizer: RunningNormalizer?, tileRows: Int = defaultTileRows
  ) {
    self.init(
      network: network, normalizer: normalizer, tileRows: tileRows, kernels: .selected)
  }

  /// Creates an evaluator that runs its element-wise work with `kernels`
  /// (tests compare the levels).
  init(
    network: ActorCritic, normalizer: RunningNormalizer?, tileRows: Int,
    kernels: ElementwiseKernels
  ) {
    self.kernels = kernels
    precondition(tileRows >= 1, "tileRows must be at least 1, got \(tileRows)")
    observationSize = network.observationSize
    actionSpace = network.actionSpace
    self.tileRows = tileRows

    let layers = network.policy.layers
    outputSizes = layers.map(\.outputSize)
    var parameters = [Float]()
    var weightOffsets = [Int]()
    var biasOffsets = [Int]()
    for layer in layers {
      weightOffsets.append(parameters.count)
      parameters += layer.weight.transposed().values
      biasOffsets.append(parameters.count)
      parameters += layer.bias
    }
    self.parameters = parameters
    self.weightOffsets = weightOffsets
    self.biasOffsets = biasOffsets

    if let normalizer {
      precondition(
        normalizer.featureCount == observationSize,
        "normalizer has \(normalizer.featureCount) features, the network takes \(observationSize)")
      let (means, scales) = normalizer.floatCoefficients()
      normalizationMeans = Array(
        [[Float]](repeating: means, count: normalizationBlockRows).joined())
      normalizationScales = Array(
        [[Float]](repeating: scales, count: normalizationBlockRows).joined())
    } else {
      (normalizationMeans, normalizationScales) = ([], [])
    }

    activationTileCount = tileRows * (outputSizes.max() ?? 1)
    scratch = [Float](repeating: 0, count: tileRows * observationSize + 2 * activationTileCount)
  }

  /// Outputs of the policy network per observation: `actionCount` logits
  /// or one mean (policy units).
  public var outputSize: Int { outputSizes[outputSizes.count - 1] }

  /// Writes one deterministic environment action per observation into
  /// `actions`: the most likely level (lowest index on ties) for discrete
  /// actions, the mapped Gaussian mean for continuous ones.
  ///
  /// - Parameters:
  ///   - observations: row-major `count x observationSize` raw
  ///     observations (normalised here when the evaluator has a normaliser).
  ///   - actions: resized to `count` when its length differs, which is the
  ///     only allocation.
  public mutating func actions(observations: [Float], count: Int, into actions: inout [Float]) {
    checkShape(observations, count: count)
    if actions.count != count {
      actions = [Float](repeating: 0, count: count)
    }
    guard count > 0 else { return }
    let outputColumns = outputSize
    let actionSpace = actionSpace
    observations.withUnsafeBufferPointer { observationBuffer in
      actions.withUnsafeMutableBufferPointer { actionBuffer in
        let actionBase = actionBuffer.baseAddress!
        forEachTile(observations: observationBuffer.baseAddress!, count: count) {
          firstRow, rows, outputs in
          switch actionSpace {
          case .discrete:
            writeMostLikelyLevels(
              logits: outputs, rows: rows, columns: outputColumns, into: actionBase + firstRow)
          case .continuous(let low, let high):
            writeContinuousActions(
              means: outputs, rows: rows, low: low, halfWidth: (high - low) / 2,
              into: actionBase + firstRow)
          }
        }
      }
    }
  }

  /// Returns one deterministic environment action per observation, as
  /// `actions(observations:count:into:)` writes them into a reused array.
  public mutating func actions(observations: [Float], count: Int) -> [Float] {
    var result = [Float]()
    actions(observations: observations, count: count, into: &result)
    return result
  }

  /// Writes the policy outputs (`count x outputSize` logits or means) of
  /// row-major `count x observationSize` raw observations into `outputs`,
  /// reshaping it when needed. They equal `ActorCritic.policyOutputs` of
  /// the normalised observations.
  public mutating func policyOutputs(
    observations: [Float], count: Int, into outputs: inout Matrix
  ) {
    checkShape(observations, count: count)
    let columns = outputSize
    outputs.reshape(rows: count, columns: columns)
    guard count > 0 else { return }
    observations.withUnsafeBufferPointer { observationBuffer in
      outputs.values.withUnsafeMutableBufferPointer { outputBuffer in
        let outputBase = outputBuffer.baseAddress!
        forEachTile(observations: observationBuffer.baseAddress!, count: count) {
          firstRow, rows, tileOutputs in
          (outputBase + firstRow * columns).update(from: tileOutputs, count: rows * columns)
        }
      }
    }
  }

  private func checkShape(_ observations: [Float], count: Int) {
    precondition(
      count >= 0 && observations.count == count * observationSize,
      "\(observations.count) values are not \(count) observations of \(observationSize) features")
  }

  /// Runs the network on each tile of `count` observations and passes
  /// `body` the tile's first row, its row count and the output layer's
  /// outputs (`rows x outputSize`, bias included, in scratch that `body`
  /// may overwrite).
  private mutating func forEachTile(
    observations: UnsafePointer<Float>, count: Int,
    _ body: (_ firstRow: Int, _ rows: Int, _ outputs: UnsafeMutablePointer<Float>) -> Void
  ) {
    // Locals, so that the closures below read them while `scratch` is
    // borrowed mutably.
    let inputSize = observationSize
    let tileRows = tileRows
    let outputSizes = outputSizes
    let weightOffsets = weightOffsets
    let biasOffsets = biasOffsets
    let layerCount = outputSizes.count
    let activationTileCount = activationTileCount
    let normalizes = !normalizationMeans.isEmpty
    let kernels = kernels

    parameters.withUnsafeBufferPointer { parameterBuffer in
      normalizationMeans.withUnsafeBufferPointer { means in
        normalizationScales.withUnsafeBufferPointer { scales in
          scratch.withUnsafeMutableBufferPointer { scratchBuffer in
            let parameterBase = parameterBuffer.baseAddress!
            let normalizedTile = scratchBuffer.baseAddress!
            let evenLayerTile = normalizedTile + tileRows * inputSize
            let oddLayerTile = evenLayerTile + activationTileCount
            for firstRow in stride(from: 0, to: count, by: tileRows) {
              let rows = min(tileRows, count - firstRow)

              // Normalise into scratch, or multiply the raw rows in place.
              var input = observations + firstRow * inputSize
              if normalizes {
                kernels.normalizeRows(
                  input, rows: rows, features: inputSize, blockMeans: means.baseAddress!,
                  blockScales: scales.baseAddress!, into: normalizedTile)
                input = UnsafePointer(normalizedTile)
              }

              // Each layer: the bias copied into every row, plus x W^T by
              // sgemm with beta 1 (W^T stored), then tanh on hidden layers.
              // For these inner sizes (at most one K block) OpenBLAS adds
              // the finished dot product to the bias with one rounding, as
              // `addBias` does after a beta-0 product, and it skips the
              // pass that zeroes C for beta 0.
              var inputWidth = inputSize
              var output = evenLayerTile
              for layer in 0..<layerCount {
                output = layer % 2 == 0 ? evenLayerTile : oddLayerTile
                let width = outputSizes[layer]
                copyBiasIntoRows(
                  output, rows: rows, columns: width, bias: parameterBase + biasOffsets[layer])
                matrixProduct(
                  rows: rows, columns: width, inner: inputWidth,
                  a: input, leadingA: inputWidth, transposeA: false,
                  b: parameterBase + weightOffsets[layer], leadingB: width,
                  transposeB: false, alpha: 1, beta: 1, c: output, leadingC: width)
                if layer < layerCount - 1 {
                  kernels.applyFastTanh(output, count: rows * width)
                }
                input = UnsafePointer(output)
                inputWidth = width
              }
              body(firstRow, rows, output)
            }
          }
        }
      }
    }
  }
}
