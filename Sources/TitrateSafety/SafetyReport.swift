import Foundation

/// The four groups of safety checks.
public enum SafetyCheckCategory: String, Sendable, Codable, CaseIterable {
  /// Delivered doses within the actuator's and the dosing rules' limits.
  case hardLimits
  /// Observations with NaN or infinities rejected, not dosed.
  case nonFiniteObservations
  /// Exposure-threshold rates at or below their configured maximum.
  case exposure
  /// Sampled "all else equal" properties of the dose choice.
  case clinicalSanity
}

/// The relation between a measured value and its limit that passes a check.
public enum LimitComparison: String, Sendable, Codable {
  /// measured <= limit
  case atMost
  /// measured >= limit
  case atLeast

  var symbol: String { self == .atMost ? "<=" : ">=" }
  /// The relation that holds when the check fails.
  var violatedSymbol: String { self == .atMost ? ">" : "<" }

  func isSatisfied(_ measured: Double, _ limit: Double) -> Bool {
    // NaN fails both comparisons, so a check that measured nothing fails.
    self == .atMost ? measured <= limit : measured >= limit
  }
}

/// Bounds of a 95% Wilson score interval, as fractions in [0, 1].
public struct RateInterval: Sendable, Codable, Equatable {
  public var lower: Double
  public var upper: Double

  public init(lower: Double, upper: Double) {
    self.lower = lower
    self.upper = upper
  }
}

/// The result of one safety check.
public struct SafetyCheckResult: Sendable, Codable, Equatable {
  /// Dotted name, category first (`exposure.toxicTrough.icu_arc`).
  public var name: String
  public var category: SafetyCheckCategory
  public var passed: Bool
  /// The value compared with `limit`, in `unit`.
  public var measured: Double
  /// The limit, in `unit`.
  public var limit: Double
  public var comparison: LimitComparison
  /// `mg`, `mg/min`, `h`, `rows`, `doses`, or `fraction` (shown as %).
  public var unit: String
  /// 95% Wilson interval of a measured fraction; nil for other values.
  public var interval: RateInterval?
  /// Further measured values by name (counts, worst cohort values).
  public var values: [String: Double]
  /// A plain-language account of the check and of its numbers.
  public var detail: String

  /// Creates a result; `passed` follows from the comparison.
  public init(
    name: String, category: SafetyCheckCategory, measured: Double, limit: Double,
    comparison: LimitComparison = .atMost, unit: String, interval: RateInterval? = nil,
    values: [String: Double] = [:], detail: String
  ) {
    self.name = name
    self.category = category
    self.measured = measured
    self.limit = limit
    self.comparison = comparison
    self.unit = unit
    self.interval = interval
    self.values = values
    self.detail = detail
    passed = comparison.isSatisfied(measured, limit)
  }

  /// One line: PASS or FAIL, the name, measured value against the limit,
  /// the interval when there is one, and the detail.
  public var line: String {
    var text = "\(passed ? "PASS" : "FAIL")  \(name): \(format(measured))"
    if let interval {
      text += " [95% CI \(format(interval.lower))-\(format(interval.upper))]"
    }
    // The relation printed is the one that holds: "<=" on a pass, ">" on a
    // failure of an upper limit.
    let relation = passed ? comparison.symbol : comparison.violatedSymbol
    text += " \(relation) limit \(format(limit)). \(detail)"
    return text
  }

  private func format(_ value: Double) -> String {
    if unit == "fraction" { return String(format: "%.1f%%", value * 100) }
    if !value.isFinite { return "\(value) \(unit)" }
    if value == value.rounded() && abs(value) < 1e15 { return "\(Int(value)) \(unit)" }
    return String(format: "%.3g %@", value, unit)
  }
}

/// Actuator interventions and screen rejections in one cohort.
public struct CohortSummary: Sendable, Codable, Equatable {
  /// Cohort name (`site icu_arc`, `renalFailure on icu_arc`).
  public var name: String
  public var patients: Int
  /// Actuator interventions by kind, summed over patients (outcome table
  /// columns `interventions*` without the prefix).
  public var interventions: [String: Int]
  /// Observation rows the non-finite screen rejected.
  public var rejectedRows: Int
}

/// The result of a verification run: one entry per check, the cohorts it
/// ran, and notes on what was configured.
public struct SafetyReport: Sendable, Codable, Equatable {
  /// The policy's report name.
  public var policy: String
  /// The environment definition's name.
  public var environment: String
  public var patientsPerCohort: Int
  public var seed: UInt64
  public var checks: [SafetyCheckResult]
  public var cohorts: [CohortSummary]
  /// The actuator's intervention kinds in outcome table order (columns
  /// `interventions*` without the prefix), which differ by environment.
  public var interventionKinds: [String]
  /// Remarks for the reader, such as where the thresholds came from.
  public var notes: [String]

  /// True when every check passed.
  public var passed: Bool { checks.allSatisfy(\.passed) }

  /// The checks that failed, in report order.
  public var failures: [SafetyCheckResult] { checks.filter { !$0.passed } }

  /// Returns the check with this name, or nil.
  public func check(named name: String) -> SafetyCheckResult? {
    checks.first { $0.name == name }
  }

  /// One line: how many checks ran and failed, and the failed names.
  public var summaryLine: String {
    let failed = failures
    if failed.isEmpty {
      return "all \(checks.count) safety checks passed for policy \(policy)"
    }
    return "\(failed.count) of \(checks.count) safety checks failed for policy \(policy): "
      + failed.map(\.name).joined(separator: ", ")
  }

  /// The full text report: a header, notes, one line per check, the
  /// actuator interventions per cohort, and the summary line.
  public var text: String {
    var lines = [
      "safety verification of policy \(policy) on environment \(environment): "
        + "\(patientsPerCohort) patients per cohort, \(cohorts.count) cohorts, seed \(seed)"
    ]
    lines += notes.map { "note: \($0)" }
    for category in SafetyCheckCategory.allCases {
      let group = checks.filter { $0.category == category }
      guard !group.isEmpty else { continue }
      lines.append("")
      lines.append("\(category.rawValue):")
      lines += group.map { "  " + $0.line }
    }
    lines.append("")
    lines.append(
      "actuator interventions ("
        + interventionKinds.map(Self.interventionLabel).joined(separator: ", ")
        + ") and screen rejections:")
    var quietCohorts = 0
    for cohort in cohorts {
      let counts = interventionKinds.map { cohort.interventions[$0] ?? 0 }
      guard counts.contains(where: { $0 > 0 }) || cohort.rejectedRows > 0 else {
        quietCohorts += 1
        continue
      }
      lines.append(
        "  \(cohort.name) (\(cohort.patients) patients): "
          + counts.map(String.init).joined(separator: ", ") + "; \(cohort.rejectedRows) rejected")
    }
    lines.append("  \(quietCohorts) of \(cohorts.count) cohorts had none")
    lines.append("")
    lines.append(summaryLine)
    return lines.joined(separator: "\n")
  }

  /// Returns the intervention kinds of an outcome table's columns, in
  /// column order.
  public static func interventionKinds(columnNames: [String]) -> [String] {
    columnNames.filter { $0.hasPrefix("interventions") }.map {
      String($0.dropFirst("interventions".count))
    }
  }

  /// Labels that differ from the kind's words. The vancomycin actuator's
  /// daily maximum is a rolling 24-h total, so its label names the window.
  static let interventionLabels = [
    "ClampedToDailyMaximum": "clamped to 24-h maximum", "NonFinite": "non-finite",
  ]

  /// Returns the words for an intervention kind: `InvalidAction` reads
  /// "invalid action".
  static func interventionLabel(_ kind: String) -> String {
    if let label = interventionLabels[kind] { return label }
    var words: [String] = []
    for character in kind {
      if character.isUppercase || words.isEmpty {
        words.append(String(character).lowercased())
      } else {
        words[words.count - 1].append(character)
      }
    }
    return words.joined(separator: " ")
  }
}
