import TitrateKernels

/// The element-wise kernels of `TitrateKernels`, compiled for a wider
/// instruction set. Two targets compile this one file:
/// `TitrateKernelsAVX2` with `-target-cpu haswell` (8-lane AVX2 vectors)
/// and `TitrateKernelsAVX512` with `-target-cpu znver4` (16-lane AVX-512
/// vectors), each on x86-64 hosts. Each function inlines the `@inlinable`
/// portable one, so every level gives identical bits (Swift contracts no
/// `a * b + c` into a fused multiply-add). `@inline(never)` keeps the
/// cross-module optimiser from copying these bodies into callers that are
/// compiled portably.
///
/// Call a target's copy only where `KernelLevel.isSupported` holds for its
/// level: on a CPU without those features it stops the process with an
/// invalid instruction.
public enum WideKernels {
  /// `TitrateKernels.applyFastTanh` at this target's instruction-set level.
  @inline(never)
  public static func applyFastTanh(_ values: UnsafeMutablePointer<Float>, count: Int) {
    TitrateKernels.applyFastTanh(values, count: count)
  }

  /// `TitrateKernels.addBiasAndApplyFastTanh` at this target's instruction-set level.
  @inline(never)
  public static func addBiasAndApplyFastTanh(
    _ values: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
    bias: UnsafePointer<Float>
  ) {
    TitrateKernels.addBiasAndApplyFastTanh(values, rows: rows, columns: columns, bias: bias)
  }

  /// `TitrateKernels.normalizeRows` at this target's instruction-set level.
  @inline(never)
  public static func normalizeRows(
    _ source: UnsafePointer<Float>, rows: Int, features: Int,
    blockMeans: UnsafePointer<Float>, blockScales: UnsafePointer<Float>, clip: Float,
    into destination: UnsafeMutablePointer<Float>
  ) {
    TitrateKernels.normalizeRows(
      source, rows: rows, features: features, blockMeans: blockMeans, blockScales: blockScales,
      clip: clip, into: destination)
  }
}
