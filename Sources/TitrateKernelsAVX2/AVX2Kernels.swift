import TitrateKernels

/// The element-wise kernels of `TitrateKernels`, compiled in this target
/// with `-target-cpu haswell` on x86-64 hosts, so that the same loops use
/// 8-lane AVX2 vectors. Each function inlines the `@inlinable` portable
/// one, so both give identical bits (Swift contracts no `a * b + c` into a
/// fused multiply-add). `@inline(never)` keeps the cross-module optimiser
/// from copying these bodies into callers that are compiled portably.
///
/// Call these only where `KernelLevel.isSupported(.avx2, ...)` holds: on a CPU
/// without those features they stop the process with an invalid
/// instruction.
public enum AVX2Kernels {
  /// `TitrateKernels.applyFastTanh` in AVX2.
  @inline(never)
  public static func applyFastTanh(_ values: UnsafeMutablePointer<Float>, count: Int) {
    TitrateKernels.applyFastTanh(values, count: count)
  }

  /// `TitrateKernels.addBiasAndApplyFastTanh` in AVX2.
  @inline(never)
  public static func addBiasAndApplyFastTanh(
    _ values: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
    bias: UnsafePointer<Float>
  ) {
    TitrateKernels.addBiasAndApplyFastTanh(values, rows: rows, columns: columns, bias: bias)
  }

  /// `TitrateKernels.normalizeRows` in AVX2.
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
