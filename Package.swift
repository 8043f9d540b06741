// swift-tools-version:6.0
// Titrate: federated reinforcement learning for drug dosing.
//
// Dependency direction (each target imports only those listed under it):
//
//   CBLAS (OpenBLAS) ─> TitrateLinearAlgebra ─> TitratePolicy ─┐
//   TitrateRandom ─────────────────────────────┘               ├─> TitrateRL ─> TitrateFederation ─┐
//   TitratePKPD ─> TitrateEnvironments ────────────────────────┘                                   ├─> titrate (CLI)
//   (TitratePolicy also imports TitrateEnvironments for ActionSpace.)
//   TitrateKernels ─> TitrateKernelsAVX2 (AVX2), TitrateKernelsAVX512 (AVX-512); all ─> TitratePolicy (element-wise kernels); TitrateKernels ─> titrate
//   TitrateHashing ─> TitrateEnvironments, TitrateCheckpoint (SHA-256)
//   CMPI (Open MPI) ─> TitrateMPI ─> TitrateFederation, titrate (MPI starts only under --transport mpi)
//   CHDF5 (HDF5) ─> TitrateHDF5 ─> TitrateCheckpoint ──────────────────────────> TitrateFederation  │
//   TitrateEnvironments + TitratePolicy ─> TitrateEvaluation ─────────────────────────────────────┘
//   TitrateEnvironments, TitratePolicy, TitrateFederation, TitrateEvaluation ─> TitrateSafety ─> titrate
//   CSodium (libsodium) ─> TitrateSodium ─> TitrateSecureAggregation ─> TitrateFederation, titrate
//   CZMQ (ZeroMQ) ─> TitrateZMQ ─> TitrateFederation, titrate (network deployment)
import Foundation
import PackageDescription

// `TITRATE_TARGET_CPU=haswell swift build -c release` compiles the numeric
// targets for that CPU (AVX2 and FMA on x86-64), which lets the element-wise
// loops use wider vectors. Unset, the build runs on any x86-64 machine.
let targetCPUSettings: [SwiftSetting] =
  ProcessInfo.processInfo.environment["TITRATE_TARGET_CPU"].map {
    [.unsafeFlags(["-target-cpu", $0])]
  } ?? []

// The AVX2 copy of the element-wise kernels, chosen at run time only on
// CPUs that have the features of `haswell`. On other hosts the target
// compiles portably and is never chosen. `-O` also in debug builds, because
// only the optimiser inlines the portable loops into this target, and
// without that the tests would compare the portable kernels with themselves.
// NOTE: `#if arch` here tests the machine that runs the manifest, not the
// build target, so cross-compiling from x86-64 to another architecture
// passes `-target-cpu haswell` to that target's compiler and fails.
#if arch(x86_64)
  let avx2Settings: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell", "-O"])]
#else
  let avx2Settings: [SwiftSetting] = []
#endif

// The AVX-512 copy of the same kernels (one source file, which this target
// reaches through a symbolic link), chosen at run time only on CPUs with
// every feature of LLVM's `znver4` model (AMD Zen 4 and later). LLVM's
// Intel AVX-512 models prefer 256-bit vectors for these loops, so `znver4`
// is the model that yields 512-bit ones. The same NOTE on `#if arch`
// applies.
#if arch(x86_64)
  let avx512Settings: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "znver4", "-O"])]
#else
  let avx512Settings: [SwiftSetting] = []
#endif

let package = Package(
  name: "Titrate",
  products: [
    .executable(name: "titrate", targets: ["titrate"])
  ],
  targets: [
    // C libraries from Debian packages, each used only through the thin
    // Swift wrapper target right after it.
    .systemLibrary(
      name: "CBLAS", pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(
      name: "CHDF5", pkgConfig: "hdf5-serial",
      providers: [.apt(["libhdf5-dev"])]),
    .systemLibrary(
      name: "CSodium", pkgConfig: "libsodium",
      providers: [.apt(["libsodium-dev"])]),
    .systemLibrary(
      name: "CMPI", pkgConfig: "ompi",
      providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
    .systemLibrary(
      name: "CZMQ", pkgConfig: "libzmq",
      providers: [.apt(["libzmq3-dev"])]),

    .target(name: "TitrateRandom"),
    .target(name: "TitrateHashing"),
    .target(
      name: "TitrateLinearAlgebra", dependencies: ["CBLAS"], swiftSettings: targetCPUSettings),
    .target(name: "TitrateKernels", swiftSettings: targetCPUSettings),
    .target(
      name: "TitrateKernelsAVX2", dependencies: ["TitrateKernels"], swiftSettings: avx2Settings),
    .target(
      name: "TitrateKernelsAVX512", dependencies: ["TitrateKernels"],
      swiftSettings: avx512Settings),
    .target(name: "TitrateHDF5", dependencies: ["CHDF5"]),
    .target(name: "TitrateSodium", dependencies: ["CSodium"]),
    .target(name: "TitrateSecureAggregation", dependencies: ["TitrateSodium"]),
    .target(name: "TitrateMPI", dependencies: ["CMPI"]),
    .target(name: "TitrateZMQ", dependencies: ["CZMQ"]),

    .target(
      name: "TitratePKPD", dependencies: ["TitrateRandom"], swiftSettings: targetCPUSettings),
    .target(
      name: "TitrateEnvironments",
      dependencies: ["TitratePKPD", "TitrateRandom", "TitrateHashing"],
      swiftSettings: targetCPUSettings),
    .target(
      name: "TitratePolicy",
      dependencies: [
        "TitrateLinearAlgebra", "TitrateKernels", "TitrateKernelsAVX2", "TitrateKernelsAVX512",
        "TitrateRandom", "TitrateEnvironments",
      ],
      swiftSettings: targetCPUSettings),
    .target(
      name: "TitrateRL",
      dependencies: ["TitratePolicy", "TitrateEnvironments", "TitrateRandom"],
      swiftSettings: targetCPUSettings),
    .target(name: "TitrateCheckpoint", dependencies: ["TitrateHDF5", "TitrateHashing"]),
    .target(
      name: "TitrateEvaluation",
      dependencies: ["TitrateEnvironments", "TitratePolicy", "TitrateRandom"]),
    .target(
      name: "TitrateFederation",
      dependencies: [
        "TitrateRL", "TitratePolicy", "TitrateEnvironments", "TitrateCheckpoint",
        "TitrateRandom", "TitrateSecureAggregation", "TitrateMPI", "TitrateZMQ",
        "TitrateHashing",
      ]),
    .target(
      name: "TitrateSafety",
      dependencies: [
        "TitrateEnvironments", "TitratePolicy", "TitrateFederation", "TitrateEvaluation",
        "TitrateRandom",
      ]),
    .executableTarget(
      name: "titrate",
      dependencies: [
        "TitrateFederation", "TitrateEvaluation", "TitrateCheckpoint",
        "TitrateEnvironments", "TitratePolicy", "TitrateRL", "TitratePKPD",
        "TitrateLinearAlgebra", "TitrateKernels", "TitrateSafety", "TitrateSecureAggregation",
        "TitrateMPI", "TitrateZMQ",
      ]),

    .testTarget(name: "TitrateRandomTests", dependencies: ["TitrateRandom"]),
    .testTarget(name: "TitrateHashingTests", dependencies: ["TitrateHashing"]),
    .testTarget(
      name: "TitrateLinearAlgebraTests", dependencies: ["TitrateLinearAlgebra"]),
    .testTarget(name: "TitratePKPDTests", dependencies: ["TitratePKPD"]),
    .testTarget(
      name: "TitrateEnvironmentsTests", dependencies: ["TitrateEnvironments"]),
    .testTarget(
      name: "TitratePolicyTests",
      dependencies: [
        "TitratePolicy", "TitrateEnvironments", "TitrateKernels",
      ]),
    .testTarget(
      name: "TitrateRLTests",
      dependencies: ["TitrateRL", "TitratePolicy", "TitrateEnvironments"]),
    .testTarget(
      name: "TitrateCheckpointTests",
      dependencies: ["TitrateCheckpoint", "TitrateHDF5"]),
    .testTarget(
      name: "TitrateFederationTests",
      dependencies: [
        "TitrateFederation", "TitrateRL", "TitratePolicy", "TitrateCheckpoint",
        "TitrateEnvironments", "TitrateRandom", "TitrateSecureAggregation",
      ]),
    .testTarget(
      name: "TitrateSecureAggregationTests",
      dependencies: ["TitrateSecureAggregation", "TitrateSodium"]),
    .testTarget(
      name: "TitrateEvaluationTests",
      dependencies: ["TitrateEvaluation", "TitrateEnvironments", "TitratePolicy", "TitrateRandom"]),
    .testTarget(
      name: "TitrateSafetyTests",
      dependencies: [
        "TitrateSafety", "TitrateEnvironments", "TitratePolicy", "TitrateFederation",
        "TitrateCheckpoint", "TitrateEvaluation",
      ]),
    .testTarget(name: "TitrateCLITests", dependencies: ["titrate", "TitrateCheckpoint"]),
    .testTarget(
      name: "TitrateMPITests",
      dependencies: ["titrate", "TitrateCheckpoint", "TitrateFederation", "TitratePolicy"]),
    .testTarget(name: "TitrateZMQTests", dependencies: ["TitrateZMQ"]),
    .testTarget(
      name: "TitrateNetworkTests",
      dependencies: [
        "titrate", "TitrateFederation", "TitrateZMQ", "TitrateCheckpoint",
        "TitrateSecureAggregation", "TitrateSodium",
      ]),
  ]
)
