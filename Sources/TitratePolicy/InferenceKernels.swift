import TitrateKernels
import TitrateKernelsAVX2
import TitrateKernelsAVX512

/// Row kernels of `PolicyEvaluator`. Each is a plain loop over pointers, and
/// each rounds exactly as the `Matrix`-level code it replaces does. The
/// element-wise ones (tanh, normalisation) live in `TitrateKernels` and run
/// through `ElementwiseKernels`.

/// Copies `bias` into each row of a row-major `rows x columns` block, the
/// starting value of a layer's output before `cblas_sgemm` with beta 1
/// adds the product.
func copyBiasIntoRows(
  _ values: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
  bias: UnsafePointer<Float>
) {
  for row in 0..<rows {
    (values + row * columns).update(from: bias, count: columns)
  }
}

/// Writes, for each of `rows` rows of `columns` logits, the index (as
/// Float) of the largest logit, keeping the lowest index on ties, as
/// `CategoricalHead.mostLikely` does. A NaN logit never replaces the
/// current best, so a row whose first logit is NaN gets 0.
func writeMostLikelyLevels(
  logits: UnsafePointer<Float>, rows: Int, columns: Int,
  into levels: UnsafeMutablePointer<Float>
) {
  for row in 0..<rows {
    let rowValues = logits + row * columns
    var best = 0
    var bestLogit = rowValues[0]
    for column in 1..<max(columns, 1) {
      let logit = rowValues[column]
      if logit > bestLogit {
        best = column
        bestLogit = logit
      }
    }
    levels[row] = Float(best)
  }
}

/// Writes `low + (mean + 1) * halfWidth` for each of `rows` Gaussian means,
/// as `ActorCritic.environmentActions` maps a deterministic continuous
/// action.
func writeContinuousActions(
  means: UnsafePointer<Float>, rows: Int, low: Float, halfWidth: Float,
  into actions: UnsafeMutablePointer<Float>
) {
  for row in 0..<rows {
    let action = low + (means[row] + 1) * halfWidth
    actions[row] = action.isNaN ? action : min(max(action, low), low + 2 * halfWidth)
  }
}

/// The element-wise kernels of one `KernelLevel`, chosen at run time. Every
/// level gives identical bits, so the choice changes only the speed.
struct ElementwiseKernels: Sendable {
  /// The level these kernels run at.
  let level: KernelLevel

  /// The kernels of `KernelLevel.selected`.
  static let selected = ElementwiseKernels(level: KernelLevel.selected)

  /// Creates the kernels of `level`.
  /// - Precondition: the CPU supports `level`.
  init(level: KernelLevel) {
    precondition(
      level == KernelLevel.selected
        || KernelLevel.isSupported(level, cpuFlags: KernelLevel.currentCPUFlags()),
      "this CPU does not support the \(level.rawValue) kernels")
    self.level = level
  }

  /// Replaces each of `count` contiguous values with its `fastTanh`.
  func applyFastTanh(_ values: UnsafeMutablePointer<Float>, count: Int) {
    switch level {
    case .portable: TitrateKernels.applyFastTanh(values, count: count)
    case .avx2: TitrateKernelsAVX2.WideKernels.applyFastTanh(values, count: count)
    case .avx512: TitrateKernelsAVX512.WideKernels.applyFastTanh(values, count: count)
    }
  }

  /// Adds `bias[column]` to each element of a row-major `rows x columns`
  /// block and replaces the sum with its `fastTanh`.
  func addBiasAndApplyFastTanh(
    _ values: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
    bias: UnsafePointer<Float>
  ) {
    switch level {
    case .portable:
      TitrateKernels.addBiasAndApplyFastTanh(values, rows: rows, columns: columns, bias: bias)
    case .avx2:
      TitrateKernelsAVX2.WideKernels.addBiasAndApplyFastTanh(
        values, rows: rows, columns: columns, bias: bias)
    case .avx512:
      TitrateKernelsAVX512.WideKernels.addBiasAndApplyFastTanh(
        values, rows: rows, columns: columns, bias: bias)
    }
  }

  /// Normalises and clips `rows` observations as `RunningNormalizer.normalize`
  /// does, with the means and scales repeated per block row (see
  /// `TitrateKernels.normalizeRows`).
  func normalizeRows(
    _ source: UnsafePointer<Float>, rows: Int, features: Int,
    blockMeans: UnsafePointer<Float>, blockScales: UnsafePointer<Float>,
    into destination: UnsafeMutablePointer<Float>
  ) {
    let clip = RunningNormalizer.clipRange
    switch level {
    case .portable:
      TitrateKernels.normalizeRows(
        source, rows: rows, features: features, blockMeans: blockMeans,
        blockScales: blockScales, clip: clip, into: destination)
    case .avx2:
      TitrateKernelsAVX2.WideKernels.normalizeRows(
        source, rows: rows, features: features, blockMeans: blockMeans,
        blockScales: blockScales, clip: clip, into: destination)
    case .avx512:
      TitrateKernelsAVX512.WideKernels.normalizeRows(
        source, rows: rows, features: features, blockMeans: blockMeans,
        blockScales: blockScales, clip: clip, into: destination)
    }
  }
}
