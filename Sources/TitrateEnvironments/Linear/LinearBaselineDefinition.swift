import Foundation

/// The kinds of baseline policy a linear-kind file can define.
public enum LinearBaselineKind: String, Codable, Sendable, CaseIterable {
  /// The same dose and interval at every decision.
  case fixed
  /// A fixed dose and an interval read off a level-versus-time chart (a
  /// nomogram such as Hartford's): the first boundary line at or above the
  /// measured level selects its interval.
  case levelToIntervalTable

  public init(from decoder: any Decoder) throws {
    self = try decodeKeyword(Self.self, from: decoder)
  }
}

/// One boundary line of a level-to-interval chart: levels at or below the
/// line select `intervalHours`. The line is linear between its points and
/// constant beyond the first and last.
public struct IntervalBoundary: Codable, Sendable, Equatable {
  /// The interval this line bounds from above, hours.
  public var intervalHours: Double
  /// Times of the line's points after the start of the dose, hours,
  /// increasing; at least two.
  public var timesHours: [Double]
  /// Levels of the line's points, mg/L, one per time.
  public var levelsMilligramsPerLiter: [Double]

  /// Returns the line's level at `hours` after the start of the dose, mg/L.
  public func level(atHours hours: Double) -> Double {
    guard let first = timesHours.first, let last = timesHours.last else { return 0 }
    if hours <= first { return levelsMilligramsPerLiter[0] }
    if hours >= last { return levelsMilligramsPerLiter[levelsMilligramsPerLiter.count - 1] }
    let upper = timesHours.firstIndex { $0 >= hours } ?? timesHours.count - 1
    let fraction = (hours - timesHours[upper - 1]) / (timesHours[upper] - timesHours[upper - 1])
    let low = levelsMilligramsPerLiter[upper - 1]
    return low + fraction * (levelsMilligramsPerLiter[upper] - low)
  }
}

/// A baseline policy of a linear-kind environment.
public struct LinearBaselineDefinition: Codable, Sendable, Equatable {
  /// Name used on the command line and in reports.
  public var name: String
  /// The policy's rule.
  public var kind: LinearBaselineKind
  /// Dose given at every decision, in `dosing.doseBasis` units; one of
  /// `dosing.doseLevels`.
  public var dose: Double
  /// `fixed` only: the interval, hours, one of `dosing.intervalHoursChoices`.
  public var intervalHours: Double?
  /// `levelToIntervalTable` only: index into
  /// `measurements.levelHoursAfterDose` of the level the chart reads.
  public var levelIndex: Int?
  /// `levelToIntervalTable` only: boundary lines in increasing interval
  /// order.
  public var boundaries: [IntervalBoundary]?
  /// `levelToIntervalTable` only: interval for a level above every line,
  /// hours.
  public var intervalAboveLastBoundaryHours: Double?
  /// `levelToIntervalTable` only: true to read the chart at every cycle,
  /// false to keep the interval set from the first cycle's level.
  public var reassessEachCycle: Bool?
  /// Key of the baseline's source in the definition's `sources`.
  public var source: String
  /// Free text: how the rule was transcribed.
  public var note: String?

  /// Returns the interval the chart selects for `level` mg/L drawn `hours`
  /// after the start of the dose, or nil for a `fixed` baseline.
  public func chartInterval(level: Double, atHours hours: Double) -> Double? {
    guard kind == .levelToIntervalTable, let boundaries else { return nil }
    for boundary in boundaries where level <= boundary.level(atHours: hours) {
      return boundary.intervalHours
    }
    return intervalAboveLastBoundaryHours
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(name, forKey: .name)
    try container.encode(kind, forKey: .kind)
    try container.encode(dose, forKey: .dose)
    try container.encode(intervalHours, forKey: .intervalHours)
    try container.encode(levelIndex, forKey: .levelIndex)
    try container.encode(boundaries, forKey: .boundaries)
    try container.encode(intervalAboveLastBoundaryHours, forKey: .intervalAboveLastBoundaryHours)
    try container.encode(reassessEachCycle, forKey: .reassessEachCycle)
    try container.encode(source, forKey: .source)
    try container.encode(note, forKey: .note)
  }

  func validate(
    path: String, dosing: LinearDosingDefinition, measurements: LinearMeasurementDefinition,
    sourceKeys: [String], _ issues: inout IssueCollector
  ) {
    if name.isEmpty { issues.add("\(path).name", "is empty. Name the baseline.") }
    if !sourceKeys.contains(source) {
      issues.add(
        "\(path).source",
        "is \"\(source)\", which is not a key of `sources`. Use one of: "
          + sourceKeys.joined(separator: ", ") + ".")
    }
    if !dosing.doseLevels.contains(dose) {
      issues.add(
        "\(path).dose",
        "is \(format(dose)) \(dosing.doseBasis.unit), which is not a dose level. Use one of: "
          + dosing.doseLevels.map(format).joined(separator: ", ") + ".")
    }
    let fixedKeys: [(String, Bool)] = [("intervalHours", intervalHours != nil)]
    let chartKeys: [(String, Bool)] = [
      ("levelIndex", levelIndex != nil), ("boundaries", boundaries != nil),
      ("intervalAboveLastBoundaryHours", intervalAboveLastBoundaryHours != nil),
      ("reassessEachCycle", reassessEachCycle != nil),
    ]
    let (required, forbidden) = kind == .fixed ? (fixedKeys, chartKeys) : (chartKeys, fixedKeys)
    for (key, present) in required where !present {
      issues.add("\(path).\(key)", "is missing or null, but a \(kind.rawValue) baseline needs it.")
    }
    for (key, present) in forbidden where present {
      issues.add(
        "\(path).\(key)", "is set, but a \(kind.rawValue) baseline does not use it. Write null.")
    }
    for (key, hours) in [
      ("intervalHours", intervalHours),
      ("intervalAboveLastBoundaryHours", intervalAboveLastBoundaryHours),
    ] {
      if let hours { requireChoice(hours, "\(path).\(key)", dosing, &issues) }
    }
    if kind == .levelToIntervalTable {
      validateChart(path: path, dosing: dosing, measurements: measurements, &issues)
    }
  }

  private func validateChart(
    path: String, dosing: LinearDosingDefinition, measurements: LinearMeasurementDefinition,
    _ issues: inout IssueCollector
  ) {
    let levelTimes = measurements.levelHoursAfterDose
    var levelHours: Double?
    if let levelIndex {
      if levelTimes.indices.contains(levelIndex) {
        levelHours = levelTimes[levelIndex]
      } else {
        issues.add(
          "\(path).levelIndex",
          "is \(levelIndex), but measurements.levelHoursAfterDose has \(levelTimes.count) "
            + "entries. Use an index in 0..<\(levelTimes.count).")
      }
    }
    guard let boundaries else { return }
    if boundaries.isEmpty { issues.add("\(path).boundaries", "is empty. List the chart's lines.") }
    // Lines whose time span leaves out the level, reported together once.
    var linesMissingLevel: [String] = []
    for (index, boundary) in boundaries.enumerated() {
      let linePath = "\(path).boundaries[\(index)]"
      requireChoice(boundary.intervalHours, "\(linePath).intervalHours", dosing, &issues)
      if index > 0, !(boundary.intervalHours > boundaries[index - 1].intervalHours) {
        issues.add(
          "\(linePath).intervalHours",
          "is not above the previous line's interval. List the lines by increasing interval.")
      }
      let times = boundary.timesHours
      if times.count < 2 || times.count != boundary.levelsMilligramsPerLiter.count {
        issues.add(
          "\(linePath).levelsMilligramsPerLiter",
          "has \(boundary.levelsMilligramsPerLiter.count) entries for \(times.count) times. "
            + "Give at least two points, one level per time.")
        continue
      }
      var timesIncrease = true
      for (pointIndex, time) in times.enumerated() {
        issues.requireRange(time, "\(linePath).timesHours[\(pointIndex)]", 0, 24 * 28, unit: "h")
        if pointIndex > 0, !(time > times[pointIndex - 1]) {
          timesIncrease = false
          issues.add(
            "\(linePath).timesHours[\(pointIndex)]",
            "is not after the previous time. List the points in increasing time.")
        }
      }
      for (pointIndex, level) in boundary.levelsMilligramsPerLiter.enumerated() {
        issues.requireRange(
          level, "\(linePath).levelsMilligramsPerLiter[\(pointIndex)]", 0, 1000, unit: "mg/L",
          lowOpen: true)
      }
      // A line with times out of order has no span, and its times are
      // already reported above.
      if timesIncrease, let levelHours,
        levelHours < times[0] || levelHours > times[times.count - 1]
      {
        linesMissingLevel.append(
          "boundaries[\(index)] (\(format(times[0]))-\(format(times[times.count - 1])) h)")
      }
    }
    if let levelHours, !linesMissingLevel.isEmpty {
      issues.add(
        "\(path).levelIndex",
        "selects the level at \(format(levelHours)) h, outside the chart's lines "
          + linesMissingLevel.joined(separator: ", ") + ". Draw the level inside every line's span."
      )
    }
  }

  private func requireChoice(
    _ hours: Double, _ path: String, _ dosing: LinearDosingDefinition,
    _ issues: inout IssueCollector
  ) {
    if !dosing.intervalHoursChoices.contains(hours) {
      issues.add(
        path,
        "is \(format(hours)) h, which is not an interval choice. Use one of: "
          + dosing.intervalHoursChoices.map(format).joined(separator: ", ") + ".")
    }
  }
}
