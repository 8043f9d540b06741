import Foundation
import TitrateHDF5

extension CheckpointFile {
  /// Reads and checks the checkpoint at `url`.
  ///
  /// A file written by `write(_:to:)` starts with a seal header that
  /// records its length and SHA-256, which are checked before HDF5 parses
  /// the file. Files from other tools have no seal. For them the checks are
  /// HDF5's own: superblock and object header checksums where the file has
  /// them, and the Fletcher-32 checksum of chunks, verified as every entry
  /// is read.
  ///
  /// - Throws: `CheckpointError.fileNotFound`; `.unreadableFile` for an
  ///   empty, truncated or non-HDF5 file; `.notACheckpoint` when
  ///   `format_version` or `program_version` is missing;
  ///   `.integrityCheckFailed` or `.corruptedEntry` for corrupted contents; `.unsupportedEntry` for
  ///   element types or ranks the format does not store.
  public static func read(from url: URL) throws(CheckpointError) -> CheckpointContents {
    let path = url.path
    let file = try openForReading(path)
    let root: HDF5Group
    do {
      root = try file.rootGroup()
    } catch {
      throw .corruptedEntry(
        filePath: path, entryPath: "/", reason: error.cause, detail: error.description)
    }

    var contents = try readRootAttributes(root, filePath: path)
    try readGroup(root, prefix: "", into: &contents, filePath: path)

    return contents
  }

  /// Reports whether the file at `url` starts with the HDF5 signature, so
  /// that it has no Titrate seal and HDF5 will parse it unchecked. False
  /// for sealed, missing or unreadable files.
  public static func startsWithoutSeal(at url: URL) -> Bool {
    guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
    defer { try? handle.close() }
    let start = (try? handle.read(upToCount: CheckpointSeal.hdf5Signature.count)) ?? Data()
    return start.elementsEqual(CheckpointSeal.hdf5Signature)
  }

  private static func openForReading(_ path: String) throws(CheckpointError) -> HDF5File {
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
      throw .fileNotFound(filePath: path)
    }
    if attributes[.type] as? FileAttributeType == .typeDirectory {
      throw .unreadableFile(filePath: path, reason: "the path is a directory", detail: "")
    }
    if (attributes[.size] as? NSNumber)?.intValue == 0 {
      throw .unreadableFile(
        filePath: path, reason: "the file is empty (0 bytes), so it was never written completely",
        detail: "")
    }
    try checkSeal(path)
    do {
      return try HDF5File.open(at: path)
    } catch {
      let reason: String
      if error.stackMentions("truncated") {
        reason = "the file is truncated (HDF5: \(error.cause))"
      } else if error.stackMentions("signature") {
        reason = "the file is not an HDF5 file or its start is damaged (HDF5: \(error.cause))"
      } else {
        reason = "the file is damaged or not an HDF5 file (HDF5: \(error.cause))"
      }
      throw .unreadableFile(filePath: path, reason: reason, detail: error.description)
    }
  }

  /// Checks the seal header, or lets a file without one through when it
  /// starts with the HDF5 signature.
  private static func checkSeal(_ path: String) throws(CheckpointError) {
    let bytes: Data
    do {
      bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw .unreadableFile(
        filePath: path, reason: "reading it failed (\(error.localizedDescription))", detail: "")
    }
    let sealPrefix = Data(CheckpointSeal.firstLine.utf8)
    if bytes.starts(with: CheckpointSeal.hdf5Signature) {
      // NOTE: a file without a seal relies on HDF5's checks alone, which do
      // not cover variable-length strings; see `CheckpointSeal`.
      return
    }
    if bytes.count < CheckpointSeal.headerByteCount
      && sealPrefix.starts(with: bytes.prefix(sealPrefix.count))
    {
      throw .integrityCheckFailed(
        filePath: path,
        reason:
          "the file is \(bytes.count) bytes, shorter than its \(CheckpointSeal.headerByteCount)-byte "
          + "header, so it is truncated")
    }
    guard bytes.starts(with: sealPrefix) else {
      throw .unreadableFile(
        filePath: path,
        reason: "it starts with neither the Titrate checkpoint header nor the HDF5 signature, "
          + "so it is damaged or not a checkpoint", detail: "")
    }
    guard let seal = CheckpointSeal.parse(bytes) else {
      throw .integrityCheckFailed(
        filePath: path, reason: "its \(CheckpointSeal.headerByteCount)-byte header is damaged")
    }
    if bytes.count != seal.fileByteCount {
      let cause = bytes.count < seal.fileByteCount ? "truncated" : "extended after writing"
      throw .integrityCheckFailed(
        filePath: path,
        reason: "the file is \(bytes.count) bytes but was written with \(seal.fileByteCount), "
          + "so it was \(cause)")
    }
    let computed = CheckpointSeal.computed(forFile: bytes)
    if computed.sha256Hex != seal.sha256Hex {
      throw .integrityCheckFailed(
        filePath: path,
        reason: "the SHA-256 of its contents is \(computed.sha256Hex), but its header records "
          + "\(seal.sha256Hex), so it was corrupted or changed after writing")
    }
  }

  private static func readRootAttributes(
    _ root: HDF5Group, filePath: String
  ) throws(CheckpointError) -> CheckpointContents {
    let formatVersion: Int64
    let programVersion: String
    do {
      formatVersion = try root.int64Attribute(formatVersionAttribute)
    } catch {
      throw .notACheckpoint(
        filePath: filePath, missingAttribute: formatVersionAttribute, detail: error.description)
    }
    do {
      programVersion = try root.stringAttribute(programVersionAttribute)
    } catch {
      throw .notACheckpoint(
        filePath: filePath, missingAttribute: programVersionAttribute, detail: error.description)
    }
    // NOTE: `created_utc` is informative, so files without it still load.
    let createdUTC = (try? root.stringAttribute(createdUTCAttribute)) ?? ""
    return CheckpointContents(
      formatVersion: Int(formatVersion), programVersion: programVersion, createdUTC: createdUTC)
  }

  private static func readGroup(
    _ group: HDF5Group, prefix: String, into contents: inout CheckpointContents, filePath: String
  ) throws(CheckpointError) {
    let members: [HDF5Member]
    do {
      members = try group.members()
    } catch {
      throw .corruptedEntry(
        filePath: filePath, entryPath: group.objectPath, reason: error.cause,
        detail: error.description)
    }
    for member in members {
      let path = prefix.isEmpty ? member.name : prefix + "/" + member.name
      do {
        switch member.kind {
        case .group:
          try readGroup(
            try group.openGroup(member.name), prefix: path, into: &contents, filePath: filePath)
        case .dataset:
          contents[path] = try readValue(
            try group.openDataset(member.name), path: path, filePath: filePath)
        case .other:
          throw CheckpointError.unsupportedEntry(
            filePath: filePath, entryPath: path, reason: "it is neither a group nor a dataset")
        }
      } catch let error as CheckpointError {
        throw error
      } catch let error as HDF5Error {
        throw .corruptedEntry(
          filePath: filePath, entryPath: path, reason: error.cause, detail: error.description)
      } catch {
        preconditionFailure("unexpected error type \(type(of: error)): \(error)")
      }
    }
  }

  private static func readValue(
    _ dataset: HDF5Dataset, path: String, filePath: String
  ) throws -> CheckpointValue {
    let shape = try dataset.shape()
    switch try dataset.elementType() {
    case .float32: return .float32(CheckpointArray(shape: shape, values: try dataset.read()))
    case .float64: return .float64(CheckpointArray(shape: shape, values: try dataset.read()))
    case .int64: return .int64(CheckpointArray(shape: shape, values: try dataset.read()))
    case .uint64: return .uint64(CheckpointArray(shape: shape, values: try dataset.read()))
    case .string:
      let texts = try dataset.readStrings()
      if shape.isEmpty {
        return .string(texts[0])
      }
      if shape.count == 1 {
        return .strings(texts)
      }
      throw CheckpointError.unsupportedEntry(
        filePath: filePath, entryPath: path,
        reason: "strings of shape \(shape); only one string or a list is stored")
    case .other(let description):
      throw CheckpointError.unsupportedEntry(
        filePath: filePath, entryPath: path, reason: "element type \(description)")
    }
  }
}
