import Testing
import TitrateEnvironments
import TitrateKernels
import TitrateLinearAlgebra
import TitrateRandom

@testable import TitratePolicy

private let cpuFlags = KernelLevel.currentCPUFlags()
private let cpuHasAVX2 = KernelLevel.isSupported(.avx2, cpuFlags: cpuFlags)
/// The wide levels this CPU can run; the bitwise tests compare each with
/// the portable kernels.
private let wideLevels = KernelLevel.allCases.filter {
  $0 != .portable && KernelLevel.isSupported($0, cpuFlags: cpuFlags)
}

/// The AVX2 and AVX-512 kernels must give the same bits as the portable
/// ones, and the portable ones must be chosen whenever no wider level may
/// run.
@Suite struct ElementwiseKernelsTests {
  /// Edge cases of `fastTanh` (zero signs, subnormals, the clamp at
  /// |x| = 9, infinities, NaN) followed by random bit patterns and random
  /// values in [-12, 12]. The count is not a multiple of 8, so the scalar
  /// remainder runs too.
  private func tanhInputs() -> [Float] {
    var values: [Float] = [
      0, -0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude,
      1e-20, -1e-7, 0.5, -0.5, 1, -1, 3, 8.999_999, 9, -9, 9.000_001, 81, 1e10,
      .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity, -.infinity, .nan, -.nan,
    ]
    var generator = Xoshiro256(seed: 11)
    for _ in 0..<50_001 {
      values.append(Float(bitPattern: UInt32(truncatingIfNeeded: generator.next())))
      values.append(Float(generator.nextUniform() * 24 - 12))
    }
    return values
  }

  @Test func levelSelectionFollowsFlags() {
    let flags = KernelLevel.avx2Flags
    #expect(KernelLevel.select(override: nil, cpuFlags: []) == .portable)
    #expect(KernelLevel.select(override: nil, cpuFlags: flags.subtracting(["fma"])) == .portable)
    #expect(KernelLevel.select(override: "portable", cpuFlags: flags) == .portable)
    #expect(KernelLevel.select(override: "avx2", cpuFlags: []) == .portable)
    #expect(KernelLevel.select(override: "sse9", cpuFlags: flags) == .portable)
    #if arch(x86_64)
      #expect(KernelLevel.select(override: nil, cpuFlags: flags) == .avx2)
      #expect(KernelLevel.select(override: "avx2", cpuFlags: flags) == .avx2)
      #expect(KernelLevel.select(override: "avx512", cpuFlags: flags) == .portable)
      let wide = KernelLevel.avx512Flags
      #expect(KernelLevel.select(override: nil, cpuFlags: wide) == .avx512)
      #expect(KernelLevel.select(override: "avx2", cpuFlags: wide) == .avx2)
      // An Intel AVX-512 CPU lacks SSE4A, so it gets the AVX2 level.
      #expect(KernelLevel.select(override: nil, cpuFlags: wide.subtracting(["sse4a"])) == .avx2)
    #else
      #expect(KernelLevel.select(override: nil, cpuFlags: flags) == .portable)
    #endif
  }

  @Test func cpuInfoFlagsOfFirstProcessor() {
    let x86 = """
      processor\t: 0
      vmx flags\t: vnmi preemption_timer
      flags\t\t: fpu sse2  avx avx2
      bugs\t\t: spectre_v1

      processor\t: 1
      flags\t\t: fpu sse2 avx512f

      """
    #expect(KernelLevel.cpuFlags(fromCPUInfo: x86) == ["fpu", "sse2", "avx", "avx2"])

    let arm = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes\nCPU implementer\t: 0x41\n"
    #expect(KernelLevel.cpuFlags(fromCPUInfo: arm).isEmpty)
    #expect(KernelLevel.cpuFlags(fromCPUInfo: "").isEmpty)
    #expect(KernelLevel.cpuFlags(fromCPUInfo: "flags").isEmpty)
    #expect(KernelLevel.cpuFlags(fromCPUInfo: "flagsx\t: avx2\n").isEmpty)
  }

  @Test func overrideWarningNamesValue() {
    let flags = KernelLevel.avx2Flags
    #expect(KernelLevel.overrideWarning(override: nil, cpuFlags: []) == nil)
    #expect(KernelLevel.overrideWarning(override: "portable", cpuFlags: []) == nil)
    let unknown = KernelLevel.overrideWarning(override: "sse9", cpuFlags: flags)
    #expect(unknown?.contains("'sse9', which is not a kernel level") == true)
    #expect(unknown?.contains("portable, avx2, avx512") == true)
    let unsupported = KernelLevel.overrideWarning(override: "avx2", cpuFlags: [])
    #expect(unsupported?.contains("cannot run it") == true)
  }

  @Test func portableKernelsRunWhenForced() {
    let kernels = ElementwiseKernels(level: .portable)
    var values: [Float] = [-20, -1, 0, 0.25, 20]
    values.withUnsafeMutableBufferPointer {
      kernels.applyFastTanh($0.baseAddress!, count: $0.count)
    }
    #expect(values.map(\.bitPattern) == [-20, -1, 0, 0.25, 20].map { fastTanh($0).bitPattern })
  }

  @Test(.enabled(if: cpuHasAVX2, "the CPU lacks AVX2"))
  func tanhMatchesPortableBitwise() {
    let inputs = tanhInputs()
    var portable = inputs
    portable.withUnsafeMutableBufferPointer {
      TitrateKernels.applyFastTanh($0.baseAddress!, count: $0.count)
    }
    for level in wideLevels {
      var wide = inputs
      wide.withUnsafeMutableBufferPointer {
        ElementwiseKernels(level: level).applyFastTanh($0.baseAddress!, count: $0.count)
      }
      #expect(portable.map(\.bitPattern) == wide.map(\.bitPattern), "\(level)")
    }
  }

  @Test(.enabled(if: cpuHasAVX2, "the CPU lacks AVX2"))
  func biasAndTanhMatchesPortableBitwise() {
    let columns = 13
    let inputs = Array(tanhInputs().prefix(columns * 3_001))
    let bias: [Float] = (0..<columns).map { Float($0) * 0.75 - 4 }
    var portable = inputs
    bias.withUnsafeBufferPointer { biasBuffer in
      portable.withUnsafeMutableBufferPointer {
        TitrateKernels.addBiasAndApplyFastTanh(
          $0.baseAddress!, rows: 3_001, columns: columns, bias: biasBuffer.baseAddress!)
      }
      for level in wideLevels {
        var wide = inputs
        wide.withUnsafeMutableBufferPointer {
          ElementwiseKernels(level: level).addBiasAndApplyFastTanh(
            $0.baseAddress!, rows: 3_001, columns: columns, bias: biasBuffer.baseAddress!)
        }
        #expect(portable.map(\.bitPattern) == wide.map(\.bitPattern), "\(level)")
      }
    }
  }

  @Test(.enabled(if: cpuHasAVX2, "the CPU lacks AVX2"))
  func normalizationMatchesPortableBitwise() {
    let features = 21
    let rows = 4_001
    let inputs = Array(tanhInputs().prefix(features * rows))
    var generator = Xoshiro256(seed: 12)
    let featureMeans = (0..<features).map { _ in Float(generator.nextStandardNormal()) }
    let featureScales = (0..<features).map { _ in Float(generator.nextUniform() * 3) }
    let means = Array([[Float]](repeating: featureMeans, count: normalizationBlockRows).joined())
    let scales = Array(
      [[Float]](repeating: featureScales, count: normalizationBlockRows).joined())
    var portable = [Float](repeating: 0, count: inputs.count)
    means.withUnsafeBufferPointer { meanBuffer in
      scales.withUnsafeBufferPointer { scaleBuffer in
        portable.withUnsafeMutableBufferPointer {
          TitrateKernels.normalizeRows(
            inputs, rows: rows, features: features, blockMeans: meanBuffer.baseAddress!,
            blockScales: scaleBuffer.baseAddress!, clip: 10, into: $0.baseAddress!)
        }
        for level in wideLevels {
          var wide = [Float](repeating: 1, count: inputs.count)
          wide.withUnsafeMutableBufferPointer {
            // `ElementwiseKernels` clips at `RunningNormalizer.clipRange`, 10.
            ElementwiseKernels(level: level).normalizeRows(
              inputs, rows: rows, features: features, blockMeans: meanBuffer.baseAddress!,
              blockScales: scaleBuffer.baseAddress!, into: $0.baseAddress!)
          }
          #expect(portable.map(\.bitPattern) == wide.map(\.bitPattern), "\(level)")
        }
      }
    }
    #expect(portable.contains(10), "no value was clipped high")
    #expect(portable.contains(-10), "no value was clipped low")
  }

  @Test(.enabled(if: cpuHasAVX2, "the CPU lacks AVX2"))
  func evaluatorLevelsGiveIdenticalOutputs() {
    let features = 21
    let rows = 2_003
    var generator = Xoshiro256(seed: 13)
    let network = ActorCritic(
      observationSize: features, actionSpace: .discrete(count: 13), hiddenSizes: [64, 64],
      generator: &generator)
    let observations = (0..<(rows * features)).map { _ in
      Float(generator.nextStandardNormal() * 40)
    }
    var normalizer = RunningNormalizer(featureCount: features)
    normalizer.update(observations: Array(observations.prefix(100 * features)), rows: 100)

    var portable = PolicyEvaluator(
      network: network, normalizer: normalizer, tileRows: 512,
      kernels: ElementwiseKernels(level: .portable))
    var portableOutputs = Matrix(rows: 0, columns: 0)
    portable.policyOutputs(observations: observations, count: rows, into: &portableOutputs)
    let portableActions = portable.actions(observations: observations, count: rows)
    for level in wideLevels {
      var wide = PolicyEvaluator(
        network: network, normalizer: normalizer, tileRows: 512,
        kernels: ElementwiseKernels(level: level))
      var wideOutputs = Matrix(rows: 0, columns: 0)
      wide.policyOutputs(observations: observations, count: rows, into: &wideOutputs)
      #expect(
        portableOutputs.values.map(\.bitPattern) == wideOutputs.values.map(\.bitPattern),
        "\(level)")
      #expect(portableActions == wide.actions(observations: observations, count: rows), "\(level)")
    }
  }
}
