import Foundation
import TitrateHashing

/// The loading scaffolding shared by the pkpd definition types (warfarin,
/// propofol, glucose, linear): strict decoding, keeping the source bytes
/// for the content hash, and the header checks every file starts with.
/// A conforming type supplies its `kind` keyword and the checks of its own
/// sections, and forwards its public `load`, `decode` and `validate` here.
protocol PKPDDefinitionFile: Codable {
  /// The file format version this build reads.
  static var supportedFormatVersion: Int { get }
  /// The `kind` value the file must have (`glucose`, `linear`, ...).
  static var kindKeyword: String { get }

  var formatVersion: Int { get }
  var kind: String { get }
  var name: String { get }
  var sources: [LiteratureSource] { get }
  /// The bytes the definition was decoded from (empty when built in code).
  var sourceJSON: Data { get set }

  /// Adds the problems of the type's own sections (everything after the
  /// header and `sources`) to `issues`.
  func validateSections(_ issues: inout IssueCollector)
}

extension PKPDDefinitionFile {
  /// SHA-256 of `sourceJSON`, lowercase hex.
  var sourceSHA256: String { SHA256.hexString(SHA256.hash([UInt8](sourceJSON))) }

  /// Reads a definition file, then decodes and validates it.
  /// - Throws: `EnvironmentDefinitionError` for an unreadable file, bad
  ///   JSON, or any invalid field.
  static func loadDefinition(from url: URL) throws(EnvironmentDefinitionError) -> Self {
    try decodeDefinition(from: try readDefinitionFile(url))
  }

  /// Decodes `data` strictly (unknown keys are rejected), keeps the bytes
  /// in `sourceJSON`, and validates the result.
  static func decodeDefinition(from data: Data) throws(EnvironmentDefinitionError) -> Self {
    var definition = try decodeStrictly(Self.self, from: data)
    definition.sourceJSON = data
    try definition.validateDefinition()
    return definition
  }

  /// Checks the header, `sources` and every section, and reports all
  /// problems at once.
  /// - Throws: `EnvironmentDefinitionError.invalid` listing every issue.
  func validateDefinition() throws(EnvironmentDefinitionError) {
    var issues = IssueCollector()
    issues.checkHeader(
      formatVersion: formatVersion, supportedVersion: Self.supportedFormatVersion,
      kind: (kind, Self.kindKeyword), name: name)
    if sources.isEmpty {
      issues.add("sources", "is empty. List the papers the constants come from.")
    }
    validateSections(&issues)
    try issues.finish()
  }
}
