import Foundation
import TitrateHashing

/// A site's own cohort of patient covariates, read from CSV, which replaces
/// the population's sampled covariate distributions. Each virtual patient
/// takes the covariates of a row drawn uniformly (with replacement). Its
/// PK parameters still come from the population's model and that model's
/// between-subject variability.
///
/// File format: UTF-8, comma-separated, one header line then one patient a
/// line. Columns, in any order, all required but `intensiveCare`:
///
/// | column | unit | allowed |
/// |---|---|---|
/// | `ageYears` | years | 18-120 |
/// | `weightKilograms` | kg | 20-400 |
/// | `female` | | 0 or 1 |
/// | `serumCreatinineMilligramsPerDeciliter` | mg/dL | 0.1-20 |
/// | `haemodialysis` | | 0 or 1 |
/// | `intensiveCare` (optional, 0 when absent) | | 0 or 1 |
///
/// Blank lines are skipped. An optional `id` column is kept for reports and
/// otherwise ignored. The cohort's rows are patient data: a checkpoint stores
/// only `sha256` of the file, never the rows.
public struct PatientCohort: Sendable, Equatable {
  /// One row's covariates.
  public struct Row: Sendable, Equatable {
    public var ageYears: Double
    public var weightKilograms: Double
    public var isFemale: Bool
    public var serumCreatinineMilligramsPerDeciliter: Double
    public var onHaemodialysis: Bool
    /// True for a patient treated in intensive care.
    public var inIntensiveCare: Bool

    public init(
      ageYears: Double, weightKilograms: Double, isFemale: Bool,
      serumCreatinineMilligramsPerDeciliter: Double, onHaemodialysis: Bool,
      inIntensiveCare: Bool = false
    ) {
      self.ageYears = ageYears
      self.weightKilograms = weightKilograms
      self.isFemale = isFemale
      self.serumCreatinineMilligramsPerDeciliter = serumCreatinineMilligramsPerDeciliter
      self.onHaemodialysis = onHaemodialysis
      self.inIntensiveCare = inIntensiveCare
    }
  }

  /// The rows in file order.
  public let rows: [Row]
  /// SHA-256 of the file's bytes, lowercase hex.
  public let sha256: String

  /// Physiological ranges accepted for the numeric columns.
  static let numericColumns: [(name: String, range: ClosedRange<Double>, unit: String)] = [
    ("ageYears", 18...120, "years"),
    ("weightKilograms", 20...400, "kg"),
    ("serumCreatinineMilligramsPerDeciliter", 0.1...20, "mg/dL"),
  ]
  static let flagColumns = ["female", "haemodialysis"]
  static let requiredColumns = numericColumns.map(\.name) + flagColumns

  /// Reads and validates a cohort file.
  /// - Throws: `PatientCohortError` naming the file, the line and column of
  ///   the first bad value, the value and the fix.
  public static func load(from url: URL) throws(PatientCohortError) -> PatientCohort {
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw PatientCohortError(
        file: url.path, line: nil, column: nil,
        message: "cannot be read (\(error.localizedDescription)); check the path")
    }
    return try parse(data, file: url.path)
  }

  /// Parses cohort CSV bytes; `file` names the source in errors.
  /// - Throws: `PatientCohortError` as `load(from:)`.
  public static func parse(_ data: Data, file: String) throws(PatientCohortError) -> PatientCohort {
    func failure(_ line: Int?, _ column: String?, _ message: String) -> PatientCohortError {
      PatientCohortError(file: file, line: line, column: column, message: message)
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw failure(nil, nil, "is not UTF-8 text; save it as UTF-8 CSV")
    }
    // Swift reads "\r\n" as one character, so lines are split on any newline
    // character: files saved on Windows (CRLF) read like Unix ones.
    let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
    guard let headerIndex = lines.firstIndex(where: { !$0.allSatisfy(\.isWhitespace) }) else {
      throw failure(nil, nil, "is empty; give a header line and one line per patient")
    }
    let header = lines[headerIndex].split(separator: ",", omittingEmptySubsequences: false).map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    var columnIndex: [String: Int] = [:]
    let known = Set(requiredColumns + ["id", "intensiveCare"])
    for (index, name) in header.enumerated() {
      guard known.contains(name) else {
        throw failure(
          headerIndex + 1, name,
          "is not a cohort column; use only "
            + (requiredColumns + ["intensiveCare", "id"]).joined(separator: ", "))
      }
      guard columnIndex[name] == nil else {
        throw failure(headerIndex + 1, name, "appears twice in the header; keep one")
      }
      columnIndex[name] = index
    }
    for name in requiredColumns where columnIndex[name] == nil {
      throw failure(headerIndex + 1, name, "is missing from the header; add the column")
    }

    var rows: [Row] = []
    for lineIndex in (headerIndex + 1)..<lines.count {
      let line = lines[lineIndex]
      if line.allSatisfy(\.isWhitespace) { continue }
      let lineNumber = lineIndex + 1
      let cells = line.split(separator: ",", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      guard cells.count == header.count else {
        throw failure(
          lineNumber, nil,
          "has \(cells.count) values but the header has \(header.count) columns; give one value per column"
        )
      }
      func number(_ name: String, _ range: ClosedRange<Double>, _ unit: String)
        throws(PatientCohortError) -> Double
      {
        let cell = cells[columnIndex[name]!]
        guard !cell.isEmpty else {
          throw failure(lineNumber, name, "is empty; every patient needs a value (\(unit))")
        }
        // Swift's Double(_:) also reads hexadecimal ("0x20" is 32), which no
        // spreadsheet writes, so only decimal notation is accepted.
        let decimal = cell.allSatisfy { "0123456789.-+eE".contains($0) }
        guard decimal, let value = Double(cell), value.isFinite else {
          throw failure(lineNumber, name, "is \"\(cell)\", not a number; write a number in \(unit)")
        }
        guard range.contains(value) else {
          throw failure(
            lineNumber, name,
            "is \(cell) \(unit), outside the accepted \(range.lowerBound)-\(range.upperBound) "
              + "\(unit); correct the value or remove the patient")
        }
        return value
      }
      func flag(_ name: String) throws(PatientCohortError) -> Bool {
        guard let column = columnIndex[name] else { return false }
        let cell = cells[column]
        switch cell {
        case "0": return false
        case "1": return true
        default:
          throw failure(lineNumber, name, "is \"\(cell)\"; write 0 (no) or 1 (yes)")
        }
      }
      let ranges = numericColumns
      rows.append(
        Row(
          ageYears: try number(ranges[0].name, ranges[0].range, ranges[0].unit),
          weightKilograms: try number(ranges[1].name, ranges[1].range, ranges[1].unit),
          isFemale: try flag("female"),
          serumCreatinineMilligramsPerDeciliter: try number(
            ranges[2].name, ranges[2].range, ranges[2].unit),
          onHaemodialysis: try flag("haemodialysis"),
          inIntensiveCare: try flag("intensiveCare")))
    }
    guard !rows.isEmpty else {
      throw failure(nil, nil, "has a header but no patients; add one line per patient")
    }
    return PatientCohort(rows: rows, sha256: SHA256.hexString(SHA256.hash([UInt8](data))))
  }

  /// Creates a cohort from rows built in code.
  public init(rows: [Row], sha256: String) {
    self.rows = rows
    self.sha256 = sha256
  }
}

/// A cohort file that cannot be used, with where and why.
public struct PatientCohortError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Path of the file.
  public var file: String
  /// 1-based line number, nil for a problem with the whole file.
  public var line: Int?
  /// Column name, when the problem is in one column.
  public var column: String?
  /// Description of the problem and its fix.
  public var message: String

  public var description: String {
    var location = file
    if let line { location += " line \(line)" }
    if let column { location += ", column \(column)" }
    return "cohort \(location) \(message)"
  }
}
