import TitrateCheckpoint
import TitrateEnvironments

extension TrainedPolicy {
  /// Reads `environment/cohort_path` and `environment/cohort_sha256`, or
  /// returns nil when the checkpoint has neither (no cohort file, or a file
  /// written before Titrate stored them).
  /// - Throws: `TrainingCheckpointError` when only one of the two exists.
  static func readCohortReference(from contents: CheckpointContents) throws
    -> CohortFileReference?
  {
    let pathEntry = CheckpointPath.environmentCohortPath
    let hashEntry = CheckpointPath.environmentCohortSHA256
    switch (contents[pathEntry] != nil, contents[hashEntry] != nil) {
    case (false, false):
      return nil
    case (true, true):
      return CohortFileReference(
        path: try contents.requireString(pathEntry), sha256: try contents.requireString(hashEntry))
    default:
      throw TrainingCheckpointError(
        reason:
          "checkpoint has only one of '\(pathEntry)' and '\(hashEntry)'; the file is damaged, "
          + "so retrain or use an intact copy")
    }
  }
}
