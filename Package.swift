// swift-tools-version:6.0
// Titrate: federated reinforcement learning for drug dosing.
//
// Dependency direction (each target imports only those listed under it):
//
//   CBLAS (OpenBLAS) ─> TitrateLinearAlgebra ─> TitratePolicy ─┐
//   TitrateRandom ─────────────────────────────┘               ├─> TitrateRL ─> TitrateFederation ─┐
//   TitratePKPD ─> TitrateEnvironments ────────────────────────┘                                   ├─> titrate (CLI)
//   (TitratePolicy also imports TitrateEnvironments for ActionSpace.)
//   TitrateHashing ─> TitrateEnvironments, TitrateCheckpoint (SHA-256)
//   CHDF5 (HDF5) ─> TitrateHDF5 ─> TitrateCheckpoint ──────────────────────────> TitrateFederation  │
//   TitrateEnvironments + TitratePolicy ─> TitrateEvaluation ─────────────────────────────────────┘
import PackageDescription

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

    .target(name: "TitrateRandom"),
    .target(name: "TitrateHashing"),
    .target(name: "TitrateLinearAlgebra", dependencies: ["CBLAS"]),
    .target(name: "TitrateHDF5", dependencies: ["CHDF5"]),

    .target(name: "TitratePKPD", dependencies: ["TitrateRandom"]),
    .target(
      name: "TitrateEnvironments",
      dependencies: ["TitratePKPD", "TitrateRandom", "TitrateHashing"]),
    .target(
      name: "TitratePolicy",
      dependencies: ["TitrateLinearAlgebra", "TitrateRandom", "TitrateEnvironments"]),
    .target(
      name: "TitrateRL",
      dependencies: ["TitratePolicy", "TitrateEnvironments", "TitrateRandom"]),
    .target(name: "TitrateCheckpoint", dependencies: ["TitrateHDF5", "TitrateHashing"]),
    .target(
      name: "TitrateEvaluation",
      dependencies: ["TitrateEnvironments", "TitratePolicy", "TitrateRandom"]),
    .target(
      name: "TitrateFederation",
      dependencies: [
        "TitrateRL", "TitratePolicy", "TitrateEnvironments", "TitrateCheckpoint",
        "TitrateRandom",
      ]),
    .executableTarget(
      name: "titrate",
      dependencies: [
        "TitrateFederation", "TitrateEvaluation", "TitrateCheckpoint",
        "TitrateEnvironments", "TitratePolicy", "TitrateRL", "TitratePKPD",
      ]),

    .testTarget(name: "TitrateRandomTests", dependencies: ["TitrateRandom"]),
    .testTarget(name: "TitrateHashingTests", dependencies: ["TitrateHashing"]),
    .testTarget(
      name: "TitrateLinearAlgebraTests", dependencies: ["TitrateLinearAlgebra"]),
    .testTarget(name: "TitratePKPDTests", dependencies: ["TitratePKPD"]),
    .testTarget(
      name: "TitrateEnvironmentsTests", dependencies: ["TitrateEnvironments"]),
    .testTarget(
      name: "TitratePolicyTests", dependencies: ["TitratePolicy", "TitrateEnvironments"]),
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
        "TitrateEnvironments", "TitrateRandom",
      ]),
    .testTarget(
      name: "TitrateEvaluationTests",
      dependencies: ["TitrateEvaluation", "TitrateEnvironments", "TitratePolicy", "TitrateRandom"]),
    .testTarget(name: "TitrateCLITests", dependencies: ["titrate"]),
  ]
)
