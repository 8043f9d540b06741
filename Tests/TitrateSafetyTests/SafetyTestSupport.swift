import Foundation
import TitrateCheckpoint
import TitrateEnvironments
import TitrateFederation
import TitrateSafety

/// Files of the source tree the tests read.
enum Fixtures {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  /// The shipped vancomycin definition, with its `safety` section.
  static let definition: EnvironmentDefinition = {
    try! EnvironmentDefinition.load(from: root.appendingPathComponent("Environments/vancomycin.json"))
  }()

  /// Reads the shipped reference checkpoint.
  static func referenceCheckpoint() throws -> TrainedPolicy {
    let contents = try CheckpointFile.read(
      from: root.appendingPathComponent("Checkpoints/vancomycin-4site.h5"))
    return try TrainedPolicy(contents: contents)
  }

  /// Small settings that keep a full run within a few seconds in debug.
  static func configuration(patients: Int) -> SafetyVerificationConfiguration {
    var configuration = SafetyVerificationConfiguration()
    configuration.patientsPerCohort = patients
    configuration.sanityRowsPerCohort = patients
    return configuration
  }
}
