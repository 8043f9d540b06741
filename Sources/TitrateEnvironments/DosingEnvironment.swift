/// A vectorised dosing environment with named baseline policies and a
/// per-patient outcome table for evaluation.
public protocol DosingEnvironment: VectorizedEnvironment {
  /// Names accepted by `baselineActions(named:)`, in a fixed order.
  var baselineNames: [String] { get }

  /// Returns the action each environment's baseline policy takes in the
  /// current state (`batchSize` entries, in this environment's action units).
  /// - Throws: `BaselineError.unknownBaseline` for a name not in
  ///   `baselineNames`.
  func baselineActions(named name: String) throws(BaselineError) -> [Float]

  /// Returns and clears the per-patient table of episodes ended since the
  /// last call (empty unless the environment records it).
  func drainOutcomeTable() -> OutcomeTable

  /// When true, every ended episode adds a row to the outcome table.
  var recordsOutcomeTable: Bool { get set }

  /// When true (the default), an ended episode restarts in the same step
  /// (the protocol's auto-reset convention). Evaluation turns it off: it
  /// resets each batch itself, so sampling a new cohort at the end of every
  /// episode would be wasted work. With it off, the step that ends the
  /// episodes returns the final observations as `observations`, and the
  /// next call must be `reset(seed:)`.
  var automaticallyResets: Bool { get set }
}

/// Why a baseline could not be computed.
public enum BaselineError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The name is not one of the environment's baselines.
  case unknownBaseline(name: String, known: [String])

  public var description: String {
    switch self {
    case .unknownBaseline(let name, let known):
      return "unknown baseline \"\(name)\"; use one of: \(known.joined(separator: ", "))"
    }
  }
}

/// Columns of Double with one row per ended episode (patient), for
/// evaluation reports. Indicator columns hold 0 or 1.
public struct OutcomeTable: Sendable, Equatable {
  /// Column names in a fixed order.
  public let columnNames: [String]
  /// Values by column name; every column has `rowCount` entries.
  public private(set) var columns: [String: [Double]]

  /// Creates an empty table with the given columns.
  public init(columnNames: [String]) {
    self.columnNames = columnNames
    columns = Dictionary(uniqueKeysWithValues: columnNames.map { ($0, []) })
  }

  /// Returns the table and leaves an empty one with the same columns in its
  /// place.
  public mutating func drain() -> OutcomeTable {
    defer { self = OutcomeTable(columnNames: columnNames) }
    return self
  }

  /// Number of rows.
  public var rowCount: Int { columnNames.first.flatMap { columns[$0]?.count } ?? 0 }

  /// The values of one column, or nil for an unknown name.
  public subscript(column name: String) -> [Double]? { columns[name] }

  /// Appends one row given in `columnNames` order.
  /// - Precondition: `row.count == columnNames.count`.
  public mutating func appendRow(_ row: [Double]) {
    precondition(
      row.count == columnNames.count, "row has \(row.count) of \(columnNames.count) values")
    for (name, value) in zip(columnNames, row) { columns[name]!.append(value) }
  }

  /// Appends rows given column by column, in `columnNames` order.
  /// - Precondition: one array per column, all of one length.
  mutating func appendColumns(_ values: [[Double]]) {
    precondition(values.count == columnNames.count, "expected \(columnNames.count) columns")
    precondition(values.allSatisfy { $0.count == values[0].count }, "columns differ in length")
    for (name, column) in zip(columnNames, values) { columns[name]!.append(contentsOf: column) }
  }

  /// Appends the rows of a table with the same columns.
  /// - Precondition: `other.columnNames == columnNames`.
  public mutating func append(contentsOf other: OutcomeTable) {
    precondition(other.columnNames == columnNames, "tables have different columns")
    for name in columnNames { columns[name]!.append(contentsOf: other.columns[name]!) }
  }

  /// Mean of a column, or nil when the column is unknown or empty.
  public func mean(of name: String) -> Double? {
    guard let values = columns[name], !values.isEmpty else { return nil }
    return values.reduce(0, +) / Double(values.count)
  }
}
