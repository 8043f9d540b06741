import Foundation

/// Everything a checkpoint file stores: version information and a tree of
/// named entries.
///
/// Entry paths are names separated by `/`, for example
/// `policy/layer_0/weight`; a leading `/` is accepted and dropped. Each path
/// becomes an HDF5 dataset, and its prefixes become groups, so one path may
/// not be a prefix of another (`policy` and `policy/log_std` conflict).
public struct CheckpointContents: Sendable, Equatable {
  /// Version of the checkpoint's layout, chosen by the program that writes
  /// it; readers compare it with `requireFormatVersion(supported:)`.
  public var formatVersion: Int
  /// Version of the program that wrote the checkpoint, for messages only.
  public var programVersion: String
  /// Creation time as ISO 8601 UTC, for example `2025-01-31T09:30:00Z`.
  public var createdUTC: String
  /// Entries by normalized path (no leading `/`).
  public private(set) var entries: [String: CheckpointValue] = [:]

  /// Creates contents without entries.
  ///
  /// - Parameters:
  ///   - formatVersion: layout version, 0 or more.
  ///   - programVersion: version of the writing program, for example `0.3.0`.
  ///   - createdUTC: creation time; defaults to now.
  public init(formatVersion: Int, programVersion: String, createdUTC: String? = nil) {
    self.formatVersion = formatVersion
    self.programVersion = programVersion
    self.createdUTC = createdUTC ?? Self.currentTimeUTC()
  }

  /// The entry at `path`, or `nil`. Setting `nil` removes the entry.
  public subscript(path: String) -> CheckpointValue? {
    get { entries[Self.normalize(path)] }
    set { entries[Self.normalize(path)] = newValue }
  }

  /// Entry paths in increasing byte order of their UTF-8 encoding.
  public var paths: [String] {
    entries.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
  }

  /// Stores a numeric array at `path`.
  public mutating func set<Element: CheckpointElement>(
    _ path: String, shape: [Int], values: [Element]
  ) {
    self[path] = Element.wrap(CheckpointArray(shape: shape, values: values))
  }

  /// Stores one string at `path`.
  public mutating func set(_ path: String, string: String) {
    self[path] = .string(string)
  }

  /// Drops one leading `/`.
  static func normalize(_ path: String) -> String {
    path.hasPrefix("/") ? String(path.dropFirst()) : path
  }

  static func currentTimeUTC() -> String {
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: Date())
  }

  /// Checks every rule a file needs: valid path components, no path that is
  /// a prefix of another, no NUL in strings, a non-negative format version.
  ///
  /// - Throws: `CheckpointError.invalidContents` naming the first problem.
  public func validate() throws(CheckpointError) {
    if formatVersion < 0 {
      throw .invalidContents(
        "format version \(formatVersion) is negative; use 0 or more")
    }
    for text in [programVersion, createdUTC] where text.utf8.contains(0) {
      throw .invalidContents(
        "version string \(text.debugDescription) contains a NUL character; remove it")
    }
    let sortedPaths = paths
    for path in sortedPaths {
      try Self.validatePath(path)
      switch entries[path] {
      case .string(let text) where text.utf8.contains(0):
        throw .invalidContents("string at '\(path)' contains a NUL character; remove it")
      case .strings(let texts) where texts.contains { $0.utf8.contains(0) }:
        throw .invalidContents("a string at '\(path)' contains a NUL character; remove it")
      default:
        break
      }
    }
    // In byte order, a path's descendants follow it directly.
    for (path, next) in zip(sortedPaths, sortedPaths.dropFirst()) where next.hasPrefix(path + "/") {
      throw .invalidContents(
        "entry '\(path)' is also the group of entry '\(next)'; rename one of them")
    }
  }

  private static func validatePath(_ path: String) throws(CheckpointError) {
    let components = path.split(separator: "/", omittingEmptySubsequences: false)
    for component in components {
      if component.isEmpty {
        throw .invalidContents(
          "entry path '\(path)' has an empty component; use names separated by single '/'")
      }
      if component == "." || component == ".." {
        throw .invalidContents(
          "entry path '\(path)' contains '\(component)'; HDF5 paths have no relative components")
      }
      if component.utf8.contains(0) {
        throw .invalidContents("entry path \(path.debugDescription) contains a NUL character")
      }
    }
  }
}
