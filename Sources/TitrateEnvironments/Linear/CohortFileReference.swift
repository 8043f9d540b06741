import Foundation

/// The cohort file a linear-kind run trained on, as a checkpoint stores it:
/// the absolute path it was read from and the SHA-256 of its bytes. The
/// rows are patient data, so a checkpoint never stores them.
public struct CohortFileReference: Sendable, Equatable {
  /// Absolute, standardized path of the file at training time.
  public var path: String
  /// SHA-256 of the file's bytes, lowercase hex (`PatientCohort.sha256`).
  public var sha256: String

  public init(path: String, sha256: String) {
    self.path = path
    self.sha256 = sha256
  }
}

extension LinearDefinition {
  /// Decodes a definition stored in a checkpoint, with the cohort file the
  /// run trained on. The cohort is read from `trainedCohort.path` or, when
  /// that file is missing, from a relative `population.cohortFile` resolved
  /// against `checkpointDirectory`. Its SHA-256 must equal
  /// `trainedCohort.sha256`.
  ///
  /// A checkpoint written before the reference was stored passes nil for
  /// `trainedCohort`. Its cohort is then read relative to
  /// `checkpointDirectory`, else relative to the current directory, and
  /// cannot be checked.
  /// - Throws: `EnvironmentDefinitionError.invalid` at
  ///   `population.cohortFile` when no candidate file exists, the file does
  ///   not load, or its SHA-256 differs from the stored one.
  public static func decodeStored(
    from data: Data, trainedCohort: CohortFileReference?, checkpointDirectory: URL?
  ) throws(EnvironmentDefinitionError) -> LinearDefinition {
    var definition = try decodeDefinition(from: data)
    guard let file = definition.population.cohortFile else { return definition }

    var candidates: [URL] = []
    if let trainedCohort { candidates.append(URL(fileURLWithPath: trainedCohort.path)) }
    if let checkpointDirectory {
      candidates.append(cohortURL(file, relativeTo: checkpointDirectory))
    }
    if trainedCohort == nil { candidates.append(cohortURL(file, relativeTo: nil)) }
    var unique: [URL] = []
    for candidate in candidates where !unique.contains(candidate) { unique.append(candidate) }

    guard let url = unique.first(where: { FileManager.default.fileExists(atPath: $0.path) })
    else {
      let looked = unique.map(\.path).joined(separator: ", ")
      let fix =
        trainedCohort.map {
          "Restore the file the checkpoint was trained with (SHA-256 \($0.sha256)) at \($0.path)."
        } ?? "Put the cohort file the checkpoint was trained with there."
      throw .invalid([
        DefinitionIssue(
          path: "population.cohortFile",
          message: "is \"\(file)\", and no cohort file was found (looked in: \(looked)). \(fix)")
      ])
    }
    try definition.loadCohort(from: url)
    if let trainedCohort, let found = definition.cohortReference,
      found.sha256 != trainedCohort.sha256
    {
      throw .invalid([
        DefinitionIssue(
          path: "population.cohortFile",
          message:
            "names cohort \(url.path) with SHA-256 \(found.sha256), but the checkpoint was "
            + "trained on \(trainedCohort.path) with SHA-256 \(trainedCohort.sha256), so the "
            + "patients would differ from training. Restore the file the checkpoint was trained "
            + "with.")
      ])
    }
    return definition
  }
}
