import Foundation

/// Whether dose levels are absolute or scaled by body weight.
public enum DoseBasis: String, Codable, Sendable, CaseIterable {
  /// Levels are in mg.
  case milligrams
  /// Levels are in mg per kg of total body weight.
  case milligramsPerKilogram

  public init(from decoder: any Decoder) throws {
    self = try decodeKeyword(Self.self, from: decoder)
  }

  /// The unit text of a level.
  public var unit: String { self == .milligrams ? "mg" : "mg/kg" }
}

/// The dosing decision of a linear-kind environment.
///
/// Cycle k starts with dose k at time t_k. Decision k is taken at
/// t_k + `measurements.decisionHoursAfterDose` and chooses dose k + 1 and
/// the interval t_(k+1) - t_k. Dose 0 is `initialDose`. The action is one
/// index, dose level index x (number of intervals) + interval index.
public struct LinearDosingDefinition: Codable, Sendable, Equatable {
  /// Unit of `doseLevels` and `initialDose`.
  public var doseBasis: DoseBasis
  /// Dose levels the policy chooses from, in `doseBasis` units, increasing,
  /// each > 0 (0 would stop therapy, which this environment does not model).
  public var doseLevels: [Double]
  /// Dosing intervals the policy chooses from, hours, increasing; one entry
  /// fixes the interval.
  public var intervalHoursChoices: [Double]
  /// First dose of every episode, in `doseBasis` units, > 0.
  public var initialDose: Double
  /// Infusion duration, hours: > 0 for `intravenousInfusion`, 0 otherwise.
  public var infusionHours: Double
  /// Deliverable dose increment, mg; 0 delivers the computed dose as is.
  public var doseRoundingMilligrams: Double
  /// Decisions (and scored dosing cycles) per episode, 1 to 50.
  public var decisionsPerEpisode: Int
  /// Grid step of the exact simulation and of the peak search, hours; every
  /// time in the file must be a whole multiple of it.
  public var simulationStepHours: Double

  /// The number of discrete actions.
  public var actionCount: Int { doseLevels.count * intervalHoursChoices.count }

  /// Splits an action index into its dose level and interval indices.
  public func decompose(action: Int) -> (doseLevel: Int, interval: Int) {
    (action / intervalHoursChoices.count, action % intervalHoursChoices.count)
  }

  /// Returns the grid steps of a duration in hours.
  func steps(_ hours: Double) -> Int { Int((hours / simulationStepHours).rounded()) }

  func validate(path: String, route: AdministrationRoute, _ issues: inout IssueCollector) {
    let unit = doseBasis.unit
    let doseLimit = doseBasis == .milligrams ? 100_000.0 : 1000.0
    if doseLevels.isEmpty {
      issues.add("\(path).doseLevels", "is empty. List at least one dose level in \(unit).")
    }
    for (index, level) in doseLevels.enumerated() {
      issues.requireRange(
        level, "\(path).doseLevels[\(index)]", 0, doseLimit, unit: unit, lowOpen: true)
      if index > 0, !(level > doseLevels[index - 1]) {
        issues.add(
          "\(path).doseLevels[\(index)]",
          "is \(format(level)), not above the previous level. List the levels in increasing order.")
      }
    }
    issues.requireRange(initialDose, "\(path).initialDose", 0, doseLimit, unit: unit, lowOpen: true)
    issues.requireRange(
      simulationStepHours, "\(path).simulationStepHours", 0, 24, unit: "h", lowOpen: true)
    guard simulationStepHours > 0, simulationStepHours <= 24 else { return }
    if intervalHoursChoices.isEmpty {
      issues.add("\(path).intervalHoursChoices", "is empty. List at least one interval in h.")
    }
    for (index, interval) in intervalHoursChoices.enumerated() {
      let itemPath = "\(path).intervalHoursChoices[\(index)]"
      issues.requireRange(interval, itemPath, 0, 24 * 28, unit: "h", lowOpen: true)
      requireGridMultiple(interval, itemPath, &issues)
      if index > 0, !(interval > intervalHoursChoices[index - 1]) {
        issues.add(
          itemPath,
          "is \(format(interval)), not above the previous interval. List them in increasing order.")
      }
    }
    let shortest = intervalHoursChoices.first ?? 0
    if route == .intravenousInfusion {
      issues.requireRange(
        infusionHours, "\(path).infusionHours", 0, shortest, unit: "h", lowOpen: true,
        fix: "An infusion needs a positive duration no longer than the shortest interval.")
      requireGridMultiple(infusionHours, "\(path).infusionHours", &issues)
    } else if infusionHours != 0 {
      issues.add(
        "\(path).infusionHours",
        "is \(format(infusionHours)), but the \(route.rawValue) route has no infusion. "
          + "Set it to 0.")
    }
    issues.requireRange(
      doseRoundingMilligrams, "\(path).doseRoundingMilligrams", 0, 1000, unit: "mg")
    if !(1...50).contains(decisionsPerEpisode) {
      issues.add(
        "\(path).decisionsPerEpisode",
        "is \(decisionsPerEpisode), but must be in [1, 50]. Choose the number of dosing cycles.")
    }
  }

  /// Requires `hours` to be a whole number of grid steps (within 1e-9 h).
  func requireGridMultiple(_ hours: Double, _ path: String, _ issues: inout IssueCollector) {
    let ratio = hours / simulationStepHours
    if abs(ratio - ratio.rounded()) > 1e-9 * max(1, ratio) {
      issues.add(
        path,
        "is \(format(hours)) h, not a whole multiple of simulationStepHours "
          + "(\(format(simulationStepHours)) h). Round it or choose a finer step.")
    }
  }
}

/// When levels are drawn and the decision is taken, relative to the start
/// of each dose.
public struct LinearMeasurementDefinition: Codable, Sendable, Equatable {
  /// Hours after the start of each dose at which a level is drawn (with
  /// residual error), increasing, each at most `decisionHoursAfterDose`.
  public var levelHoursAfterDose: [Double]
  /// Hours after the start of each dose at which the decision is taken,
  /// >= 0 and below the shortest interval.
  public var decisionHoursAfterDose: Double
  /// True to draw a trough level just before each next dose, which the
  /// next decision's observation contains.
  public var measureTrough: Bool

  func validate(path: String, dosing: LinearDosingDefinition, _ issues: inout IssueCollector) {
    let shortest = dosing.intervalHoursChoices.first ?? 0
    issues.requireRange(
      decisionHoursAfterDose, "\(path).decisionHoursAfterDose", 0, shortest, unit: "h",
      fix: "Decide before the next dose: use a value below the shortest interval.")
    if decisionHoursAfterDose >= shortest, shortest > 0 {
      issues.add(
        "\(path).decisionHoursAfterDose",
        "is \(format(decisionHoursAfterDose)) h, not below the shortest interval "
          + "(\(format(shortest)) h). Decide before the next dose.")
    }
    dosing.requireGridMultiple(decisionHoursAfterDose, "\(path).decisionHoursAfterDose", &issues)
    for (index, hours) in levelHoursAfterDose.enumerated() {
      let itemPath = "\(path).levelHoursAfterDose[\(index)]"
      issues.requireRange(
        hours, itemPath, 0, decisionHoursAfterDose, unit: "h",
        fix: "Draw each level at or before the decision so that the policy can see it.")
      dosing.requireGridMultiple(hours, itemPath, &issues)
      if index > 0, !(hours > levelHoursAfterDose[index - 1]) {
        issues.add(itemPath, "is not after the previous level. List the times in increasing order.")
      }
    }
  }
}
