#if canImport(Glibc)
  import Glibc
#endif

/// The instruction-set level that the element-wise kernels run at.
///
/// Every level compiles the same `@inlinable` loops of this module and uses
/// the same operations in the same order (no fused multiply-add), so all
/// give identical bits. The AVX2 build uses 8-lane vectors and the AVX-512
/// build 16-lane ones where the portable build uses 4-lane SSE.
public enum KernelLevel: String, Sendable, CaseIterable {
  /// Baseline x86-64 (SSE2 vectors), or the default CPU of the build on
  /// other architectures.
  case portable
  /// The features of LLVM's `haswell` CPU (AVX2, FMA, BMI1, BMI2, F16C,
  /// LZCNT, MOVBE and older ones), which `TitrateKernelsAVX2` is compiled
  /// for.
  case avx2
  /// The features of LLVM's `znver4` CPU (AMD Zen 4: AVX-512 with its
  /// VL, BW, DQ and later subsets, on top of `avx2`), which
  /// `TitrateKernelsAVX512` is compiled for.
  case avx512

  /// The environment variable that overrides the automatic choice:
  /// `portable` forces the portable kernels, `avx2` or `avx512` requests
  /// a wider level (granted only when the CPU has its features), and any
  /// other value selects the portable kernels with a warning on stderr.
  public static let overrideVariable = "TITRATE_KERNELS"

  /// `/proc/cpuinfo` flags of the instruction-set extensions that LLVM's
  /// `haswell` CPU model enables for compiled code (system instructions
  /// such as INVPCID left out). `abm` is how Linux
  /// names LZCNT, `pni` SSE3 and `lahf_lm` LAHF/SAHF in 64-bit mode. Linux
  /// lists `avx` only when the kernel saves the AVX registers (XSAVE and
  /// OSXSAVE), so the flags also cover operating-system support.
  public static let avx2Flags: Set<String> = [
    "cx16", "lahf_lm", "popcnt", "pni", "ssse3", "sse4_1", "sse4_2", "pclmulqdq",
    "avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave", "xsaveopt",
    "fsgsbase", "rdrand",
  ]

  /// `/proc/cpuinfo` flags of the extensions that LLVM's `znver4` CPU
  /// model adds to `avx2Flags` for compiled code. System instructions are
  /// left out, as for `avx2Flags`, and so is MONITORX/MWAITX (`mwaitx`),
  /// which compilers emit only through intrinsics and virtual machines
  /// often hide. `3dnowprefetch` is how Linux names PREFETCHW. Intel CPUs
  /// lack `sse4a` and `clzero`, so they get the AVX2 level.
  public static let avx512Flags: Set<String> = avx2Flags.union([
    "avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl", "avx512ifma", "avx512vbmi",
    "avx512_vbmi2", "avx512_vnni", "avx512_bitalg", "avx512_vpopcntdq", "avx512_bf16", "gfni",
    "vaes", "vpclmulqdq", "aes", "adx", "sha_ni", "sse4a", "clflushopt", "clwb", "clzero",
    "rdseed", "rdpid", "xsavec", "xsaves", "3dnowprefetch",
  ])

  /// The value of the override variable for this process, nil when unset.
  static let processOverride: String? = getenv(overrideVariable).map { String(cString: $0) }

  /// The CPU flags of this machine, read once from `/proc/cpuinfo`.
  static let processCPUFlags = currentCPUFlags()

  /// The level used by this process: the override variable when set,
  /// otherwise the widest level the CPU supports. Read once.
  public static let selected: KernelLevel = select(
    override: processOverride, cpuFlags: processCPUFlags)

  /// The warning for this process's override value, nil when the variable
  /// is unset or granted. Reads the CPU flags only when the variable is set.
  public static var processOverrideWarning: String? {
    guard let processOverride else { return nil }
    return overrideWarning(override: processOverride, cpuFlags: processCPUFlags)
  }

  /// Returns whether code of `level` can run on a CPU with `cpuFlags`
  /// (`/proc/cpuinfo` names). Always true for `portable`.
  public static func isSupported(_ level: KernelLevel, cpuFlags: Set<String>) -> Bool {
    let required: Set<String>
    switch level {
    case .portable: return true
    case .avx2: required = avx2Flags
    case .avx512: required = avx512Flags
    }
    #if arch(x86_64)
      return required.isSubset(of: cpuFlags)
    #else
      return false
    #endif
  }

  /// Chooses a level from an override value (nil when unset) and the CPU's
  /// flags: the widest supported level without an override, `portable`
  /// for any override other than a supported level's raw value.
  public static func select(override: String?, cpuFlags: Set<String>) -> KernelLevel {
    if let override {
      guard let requested = KernelLevel(rawValue: override),
        isSupported(requested, cpuFlags: cpuFlags)
      else { return .portable }
      return requested
    }
    return [KernelLevel.avx512, .avx2].first { isSupported($0, cpuFlags: cpuFlags) } ?? .portable
  }

  /// Returns a warning for an override value that `select` does not grant
  /// (an unknown level, or a level this CPU cannot run), or nil when the
  /// value is unset or granted. Results do not depend on the level, so the
  /// program warns and continues with the portable kernels.
  public static func overrideWarning(override: String?, cpuFlags: Set<String>) -> String? {
    guard let override else { return nil }
    let known = allCases.map(\.rawValue).joined(separator: ", ")
    guard let requested = KernelLevel(rawValue: override) else {
      return "\(overrideVariable) is '\(override)', which is not a kernel level, so the "
        + "portable kernels run; set it to one of \(known), or unset it"
    }
    guard isSupported(requested, cpuFlags: cpuFlags) else {
      return "\(overrideVariable) requests '\(override)', but this CPU cannot run it, so the "
        + "portable kernels run; unset \(overrideVariable) to choose automatically"
    }
    return nil
  }

  /// Returns the flags of the first processor in `/proc/cpuinfo`, or an
  /// empty set where that file cannot be read (other systems), which
  /// selects the portable kernels.
  public static func currentCPUFlags() -> Set<String> {
    guard let text = readFilePrefix("/proc/cpuinfo", maximumBytes: 1 << 16) else { return [] }
    return cpuFlags(fromCPUInfo: text)
  }

  /// Returns the `flags` of the first processor in `/proc/cpuinfo` text, or
  /// an empty set when no line has that key (other architectures name
  /// their features `Features` or `isa`, and get the portable kernels).
  public static func cpuFlags(fromCPUInfo text: String) -> Set<String> {
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 1)
      guard parts.count == 2,
        parts[0].trimmingSuffix(while: { $0 == " " || $0 == "\t" }) == "flags"
      else { continue }
      return Set(parts[1].split(separator: " ").map(String.init))
    }
    return []
  }
}

extension Substring {
  fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
    var end = endIndex
    while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
    return self[startIndex..<end]
  }
}

/// Returns up to `maximumBytes` of a file as UTF-8 text, nil when it cannot
/// be opened. Reads in a loop because `/proc` files arrive in pieces.
private func readFilePrefix(_ path: String, maximumBytes: Int) -> String? {
  #if canImport(Glibc)
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var bytes = [UInt8](repeating: 0, count: maximumBytes)
    var filled = 0
    while filled < maximumBytes {
      let received = bytes.withUnsafeMutableBytes { buffer in
        read(descriptor, buffer.baseAddress! + filled, maximumBytes - filled)
      }
      guard received > 0 else { break }
      filled += received
    }
    return String(decoding: bytes[0..<filled], as: UTF8.self)
  #else
    return nil
  #endif
}
