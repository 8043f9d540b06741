import Foundation
import TitrateHDF5

#if canImport(Glibc)
  import Glibc
#endif

/// Reads and writes `CheckpointContents` as HDF5 files.
///
/// The layout, the integrity checks and the error cases are described in
/// `Docs/checkpoint-format.md`.
public enum CheckpointFile {
  /// Root attribute with `CheckpointContents.formatVersion` (int64).
  public static let formatVersionAttribute = "format_version"
  /// Root attribute with `CheckpointContents.programVersion` (string).
  public static let programVersionAttribute = "program_version"
  /// Root attribute with `CheckpointContents.createdUTC` (string).
  public static let createdUTCAttribute = "created_utc"

  /// Writes `contents` to `url` atomically.
  ///
  /// The file is first written, flushed and synced as a hidden temporary
  /// file in the same directory, then renamed over `url`. A failure at any
  /// step removes the temporary file and leaves an existing file at `url`
  /// unchanged.
  ///
  /// - Throws: `CheckpointError.invalidContents` when `contents.validate()`
  ///   fails, `CheckpointError.writeFailed` when the directory is missing or
  ///   writing, syncing or renaming fails.
  public static func write(_ contents: CheckpointContents, to url: URL) throws(CheckpointError) {
    try write(contents, to: url, failingAfterEntryCount: nil, sealed: true)
  }

  /// `write(_:to:)` for tests: injects a failure after writing
  /// `failingAfterEntryCount` entries, and omits the seal header (as files
  /// from other tools do) unless `sealed`.
  static func write(
    _ contents: CheckpointContents, to url: URL, failingAfterEntryCount: Int?, sealed: Bool
  ) throws(CheckpointError) {
    try contents.validate()
    let targetPath = url.path
    let directory = url.deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory),
      isDirectory.boolValue
    else {
      throw .writeFailed(
        filePath: targetPath,
        reason: "directory '\(directory)' does not exist; create it first", detail: "")
    }
    let temporaryPath =
      directory + "/." + url.lastPathComponent + "." + UUID().uuidString + ".tmp"
    do throws(CheckpointError) {
      try writeHDF5(
        contents, to: temporaryPath, targetPath: targetPath,
        failingAfterEntryCount: failingAfterEntryCount, sealed: sealed)
      try syncFile(atPath: temporaryPath, targetPath: targetPath)
      if rename(temporaryPath, targetPath) != 0 {
        throw CheckpointError.writeFailed(
          filePath: targetPath,
          reason: "renaming the temporary file failed (\(String(cString: strerror(errno))))",
          detail: "")
      }
    } catch {
      unlink(temporaryPath)
      throw error
    }
    // The rename is durable once the directory entry is synced. A failure
    // here leaves the complete new file in place, so it is not reported.
    _ = try? syncFile(atPath: directory, targetPath: targetPath)
  }

  private static func writeHDF5(
    _ contents: CheckpointContents, to path: String, targetPath: String,
    failingAfterEntryCount: Int?, sealed: Bool
  ) throws(CheckpointError) {
    do {
      let file = try HDF5File.create(
        at: path, userBlockBytes: sealed ? CheckpointSeal.headerByteCount : 0)
      // The groups and datasets must be released before `close()`.
      try writeEntries(contents, into: file, failingAfterEntryCount: failingAfterEntryCount)
      try file.close()
    } catch {
      throw .writeFailed(
        filePath: targetPath, reason: "HDF5 failed to \(error.operation) (\(error.cause))",
        detail: error.description)
    }
    guard sealed else { return }
    do {
      try CheckpointSeal.seal(fileAtPath: path)
    } catch {
      throw .writeFailed(
        filePath: targetPath, reason: "writing the seal header failed (\(error.localizedDescription))",
        detail: "")
    }
  }

  private static func writeEntries(
    _ contents: CheckpointContents, into file: HDF5File, failingAfterEntryCount: Int?
  ) throws(HDF5Error) {
    let root = try file.rootGroup()
    try root.setAttribute(formatVersionAttribute, int64: Int64(contents.formatVersion))
    try root.setAttribute(programVersionAttribute, string: contents.programVersion)
    try root.setAttribute(createdUTCAttribute, string: contents.createdUTC)
    for (index, path) in contents.paths.enumerated() {
      if let failingAfterEntryCount, index == failingAfterEntryCount {
        throw HDF5Error(
          operation: "write entry", objectPath: path, note: "injected failure for testing")
      }
      switch contents[path]! {
      case .float32(let array): try root.createDataset(path, shape: array.shape, values: array.values)
      case .float64(let array): try root.createDataset(path, shape: array.shape, values: array.values)
      case .int64(let array): try root.createDataset(path, shape: array.shape, values: array.values)
      case .uint64(let array): try root.createDataset(path, shape: array.shape, values: array.values)
      case .string(let text): try root.createStringDataset(path, shape: [], values: [text])
      case .strings(let texts):
        try root.createStringDataset(path, shape: [texts.count], values: texts)
      }
    }
  }

  /// Flushes a file's or directory's data to the storage device (`fsync`).
  private static func syncFile(atPath path: String, targetPath: String) throws(CheckpointError) {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else {
      throw .writeFailed(
        filePath: targetPath,
        reason: "opening '\(path)' to sync it failed (\(String(cString: strerror(errno))))",
        detail: "")
    }
    defer { close(descriptor) }
    if fsync(descriptor) != 0 {
      throw .writeFailed(
        filePath: targetPath,
        reason: "syncing '\(path)' failed (\(String(cString: strerror(errno))))", detail: "")
    }
  }
}
