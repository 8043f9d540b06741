/// A checkpoint that could not be written, read or validated.
///
/// `description` names the file or entry, what failed and what to do.
public enum CheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
  /// No file exists at the path.
  case fileNotFound(filePath: String)
  /// The file exists but cannot be opened as HDF5: it is empty, truncated,
  /// corrupted or not HDF5. `detail` is HDF5's error stack.
  case unreadableFile(filePath: String, reason: String, detail: String)
  /// The file is HDF5 but lacks a root attribute every checkpoint has.
  case notACheckpoint(filePath: String, missingAttribute: String, detail: String)
  /// Reading one entry or group failed, which in a file that opened means
  /// corruption (for example a Fletcher-32 checksum mismatch).
  case corruptedEntry(filePath: String, entryPath: String, reason: String, detail: String)
  /// The seal header's length or SHA-256 does not match the file, so the
  /// file was truncated, corrupted or changed after writing.
  case integrityCheckFailed(filePath: String, reason: String)
  /// An entry has a type or rank this format does not store.
  case unsupportedEntry(filePath: String, entryPath: String, reason: String)
  /// Contents break a rule of the format; see `CheckpointContents.validate()`.
  case invalidContents(String)
  /// Writing failed; the target path was left as it was.
  case writeFailed(filePath: String, reason: String, detail: String)
  /// A required entry is missing.
  case missingEntry(entryPath: String)
  /// An entry has another element type than required.
  case typeMismatch(entryPath: String, stored: String, expected: String)
  /// An entry has another shape than required.
  case shapeMismatch(entryPath: String, stored: [Int], expected: String)
  /// The stored format version is outside the versions a reader supports.
  case unsupportedFormatVersion(stored: Int, supported: ClosedRange<Int>, programVersion: String)

  /// Full message with the path, the cause and the remedy.
  public var description: String {
    let restore = "Restore the file from a backup or write a new checkpoint."
    switch self {
    case .fileNotFound(let filePath):
      return "Checkpoint file not found at '\(filePath)'. Check the path, "
        + "or write a checkpoint there first."
    case .unreadableFile(let filePath, let reason, let detail):
      return "Cannot read checkpoint '\(filePath)': \(reason). \(restore)"
        + Self.appendDetail(detail)
    case .notACheckpoint(let filePath, let missingAttribute, let detail):
      return "File '\(filePath)' is HDF5 but not a Titrate checkpoint: root attribute "
        + "'\(missingAttribute)' is missing or invalid. Pass a file written by "
        + "CheckpointFile.write or one laid out as Docs/checkpoint-format.md describes."
        + Self.appendDetail(detail)
    case .corruptedEntry(let filePath, let entryPath, let reason, let detail):
      return "Checkpoint '\(filePath)' is corrupted: reading '\(entryPath)' failed "
        + "(\(reason)). \(restore)" + Self.appendDetail(detail)
    case .integrityCheckFailed(let filePath, let reason):
      return "Checkpoint '\(filePath)' failed its integrity check: \(reason). \(restore)"
    case .unsupportedEntry(let filePath, let entryPath, let reason):
      return "Checkpoint '\(filePath)' has an unsupported entry '\(entryPath)': \(reason). "
        + "Store float32, float64, int64 or uint64 arrays, one string or a list of strings."
    case .invalidContents(let reason):
      return "Invalid checkpoint contents: \(reason)."
    case .writeFailed(let filePath, let reason, let detail):
      return "Writing checkpoint '\(filePath)' failed: \(reason). Any existing file at "
        + "that path was left unchanged." + Self.appendDetail(detail)
    case .missingEntry(let entryPath):
      return "Checkpoint entry '\(entryPath)' is missing. The file was written by another "
        + "program version or for another configuration; use a matching checkpoint."
    case .typeMismatch(let entryPath, let stored, let expected):
      return "Checkpoint entry '\(entryPath)' stores \(stored), expected \(expected). "
        + "Use a checkpoint written for this program version."
    case .shapeMismatch(let entryPath, let stored, let expected):
      return "Checkpoint entry stored shape \(stored) at \(entryPath), expected \(expected). "
        + "The checkpoint was written for another network or configuration; use a matching "
        + "checkpoint or the configuration stored in it."
    case .unsupportedFormatVersion(let stored, let supported, let programVersion):
      let range =
        supported.lowerBound == supported.upperBound
        ? "\(supported.lowerBound)" : "\(supported.lowerBound) to \(supported.upperBound)"
      return "Checkpoint format version \(stored) (written by program version "
        + "\(programVersion)) is not supported; this program reads format version \(range). "
        + "Use a program version that reads format \(stored), or write a new checkpoint."
    }
  }

  private static func appendDetail(_ detail: String) -> String {
    detail.isEmpty ? "" : "\n" + detail
  }
}
