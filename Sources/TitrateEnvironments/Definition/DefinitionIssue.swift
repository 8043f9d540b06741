import Foundation

/// One problem found in an environment definition file: the JSON path of the
/// field (for example `populations.icu_arc.covariates.ageYears.mean`) and a
/// sentence that names the bad value, the allowed range or type, and the fix.
public struct DefinitionIssue: Error, Equatable, Sendable, CustomStringConvertible {
  /// Dotted JSON path of the field; array elements appear as `sources[0]`.
  public var path: String
  /// Full sentence: what is wrong, the value found, what is allowed, the fix.
  public var message: String

  public init(path: String, message: String) {
    self.path = path
    self.message = message
  }

  public var description: String { "\(path): \(message)" }
}

/// Errors from loading an environment definition.
public enum EnvironmentDefinitionError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file could not be read (missing, unreadable).
  case unreadableFile(path: String, reason: String)
  /// The bytes are not valid JSON, or the top level is not an object.
  case malformedJSON(reason: String)
  /// The JSON parsed, but one or more fields are missing, mistyped, unknown
  /// or out of range; every problem found is listed.
  case invalid([DefinitionIssue])

  public var description: String {
    switch self {
    case .unreadableFile(let path, let reason):
      return "cannot read environment definition \(path): \(reason). "
        + "Check the path and the file permissions."
    case .malformedJSON(let reason):
      return "environment definition is not valid JSON: \(reason). Fix the syntax there."
    case .invalid(let issues):
      let lines = issues.map { "- \($0)" }.joined(separator: "\n")
      return "invalid environment definition (\(issues.count) "
        + "problem\(issues.count == 1 ? "" : "s")):\n\(lines)"
    }
  }

  /// The issues of an `.invalid` error, or an empty list.
  public var issues: [DefinitionIssue] {
    if case .invalid(let issues) = self { return issues }
    return []
  }
}

/// Formats a decoder coding path as a dotted JSON path with `[index]` for
/// array elements.
func jsonPath(_ codingPath: [any CodingKey]) -> String {
  var path = ""
  for key in codingPath {
    if let index = key.intValue, key.stringValue.hasPrefix("Index ") {
      path += "[\(index)]"
    } else {
      path += path.isEmpty ? key.stringValue : ".\(key.stringValue)"
    }
  }
  return path.isEmpty ? "(top level)" : path
}

/// Appends a key to a dotted JSON path.
func jsonPath(_ base: String, _ key: String) -> String {
  base.isEmpty || base == "(top level)" ? key : "\(base).\(key)"
}

/// Collects validation problems with their paths, so that `validate()`
/// reports every problem at once.
struct IssueCollector {
  var issues: [DefinitionIssue] = []

  mutating func add(_ path: String, _ message: String) {
    issues.append(DefinitionIssue(path: path, message: message))
  }

  /// Checks the keys every definition file starts with: the format
  /// version, the `kind` (for files that have one), and a non-empty name.
  mutating func checkHeader(
    formatVersion: Int, supportedVersion: Int, kind: (found: String, expected: String)? = nil,
    name: String
  ) {
    if formatVersion != supportedVersion {
      add(
        "formatVersion",
        "is \(formatVersion), but this build reads version \(supportedVersion). "
          + "Convert the file or use a matching build.")
    }
    if let kind, kind.found != kind.expected {
      add(
        "kind",
        "is \"\(kind.found)\", but a \(kind.expected) definition needs \"\(kind.expected)\". "
          + "Set it to \(kind.expected).")
    }
    if name.isEmpty { add("name", "is empty. Give the environment a short name.") }
  }

  /// Requires `low <= value <= high` (or strict bounds); the message names
  /// the value, the range with its unit, and the fix.
  mutating func requireRange(
    _ value: Double, _ path: String, _ low: Double, _ high: Double,
    unit: String, lowOpen: Bool = false, fix: String? = nil
  ) {
    let tooLow = lowOpen ? !(value > low) : !(value >= low)
    guard !value.isFinite || tooLow || value > high else { return }
    let open = lowOpen ? "(" : "["
    let range = "\(open)\(format(low)), \(format(high))]" + (unit.isEmpty ? "" : " \(unit)")
    let advice = fix ?? "Set a value in that range."
    add(path, "is \(format(value)), but must be in \(range). \(advice)")
  }

  func finish() throws(EnvironmentDefinitionError) {
    if !issues.isEmpty { throw .invalid(issues) }
  }
}

/// Formats a number without a trailing `.0` for whole values.
func format(_ value: Double) -> String {
  if value.isFinite, value == value.rounded(), abs(value) < 1e15 {
    return String(Int64(value))
  }
  return "\(value)"
}
