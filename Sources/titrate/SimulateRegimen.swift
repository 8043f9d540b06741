import Foundation
import TitrateEnvironments

/// The fixed regimen of `titrate simulate`: doses from the command line,
/// with a warning for each limit of the environment that they exceed.
extension SimulateCommand {
  static func regimenDoses(
    _ parsed: ParsedOptions, hours: Double, stepHours: Double, definition: EnvironmentDefinition
  ) throws -> [ScheduledDose] {
    guard parsed.string("dose-mg") != nil else {
      throw CommandError.usage(
        "give --dose-mg (with --interval-hours and --infusion-hours) or --checkpoint; usage: \(usage)"
      )
    }
    let dose = try parsed.double("dose-mg", in: 0...10_000, unit: "mg")
    let loading = try parsed.optionalDouble("loading-dose-mg", in: 0...10_000, unit: "mg") ?? dose
    let interval = try parsed.double("interval-hours", in: 1...168, unit: "h")
    let infusion = try parsed.double("infusion-hours", in: 0.25...24, unit: "h")
    try checkOnGrid("interval-hours", interval, stepHours: stepHours, range: 1...168)
    try checkOnGrid("infusion-hours", infusion, stepHours: stepHours, range: 0.25...24)
    guard infusion <= interval else {
      throw CommandError.usage(
        "--infusion-hours \(infusion) is longer than --interval-hours \(interval); infusions must not overlap"
      )
    }
    var doses: [ScheduledDose] = []
    var start = 0.0
    while start < hours {
      doses.append(
        ScheduledDose(
          startHours: start, milligrams: doses.isEmpty ? loading : dose, infusionHours: infusion))
      start += interval
    }

    var options = [("dose-mg", dose)]
    if parsed.explicitOptions.contains("loading-dose-mg") {
      options.insert(("loading-dose-mg", loading), at: 0)
    }
    warnOffIncrement(options, limits: definition.actuatorLimits)
    warnAboveSingleDoseLimit(options, limits: definition.actuatorLimits)
    warnAboveDailyLimit(doses, limits: definition.actuatorLimits)
    for milligrams in Set([loading, dose]).sorted() where milligrams > 0 {
      warnAboutInfusion(milligrams, infusionHours: infusion, rules: definition.dosing)
    }
    return doses
  }

  /// Rejects a duration that is not a whole number of simulation steps,
  /// naming the nearest durations in `range` that are.
  static func checkOnGrid(
    _ name: String, _ hours: Double, stepHours: Double, range: ClosedRange<Double>
  ) throws {
    let steps = hours / stepHours
    guard abs(steps - steps.rounded()) >= 1e-9 else { return }
    // Rounded to 1e-9 h so that 479 x 0.1 prints as 47.9.
    let neighbours = [steps.rounded(.down), steps.rounded(.up)]
      .map { ($0 * stepHours * 1e9).rounded() / 1e9 }
      .filter { range.contains($0) }
    let fix =
      neighbours.isEmpty
      ? "give a multiple of it"
      : "give \(neighbours.map(formatNumber).joined(separator: " or ")) h"
    throw CommandError.usage(
      "--\(name) \(formatNumber(hours)) is not a multiple of the \(formatNumber(stepHours)) h simulation step; \(fix)"
    )
  }

  /// Warns about each dose option that is not a multiple of the actuator's
  /// dose increment, which the actuator would round.
  static func warnOffIncrement(
    _ options: [(name: String, milligrams: Double)], limits: ActuatorLimits
  ) {
    let actuator = DoseActuator(limits: limits)
    for (name, milligrams) in options {
      let rounded = actuator.limited(milligrams, milligramsInPrevious24Hours: 0)
      guard rounded.interventions.contains(.rounded) else { continue }
      printError(
        "titrate simulate: warning: --\(name) \(formatNumber(milligrams)) is not a multiple of the \(formatNumber(limits.doseIncrementMilligrams)) mg dose increment; simulated as given (the actuator would deliver \(formatNumber(rounded.doseMilligrams)) mg)"
      )
    }
  }

  /// Warns about each dose option above the actuator's single-dose limit.
  static func warnAboveSingleDoseLimit(
    _ options: [(name: String, milligrams: Double)], limits: ActuatorLimits
  ) {
    let maximum = limits.maximumSingleDoseMilligrams
    for (name, milligrams) in options where milligrams > maximum {
      printError(
        "titrate simulate: warning: --\(name) \(formatNumber(milligrams)) is above the \(formatNumber(maximum)) mg limit per dose; simulated as given (the actuator would lower it to \(formatNumber(maximum)) mg)"
      )
    }
  }

  /// Warns when the doses started within some 24 h add up to more than
  /// the actuator's daily limit, and names the doses the actuator would
  /// lower. As in the environment, the actuator counts the doses started
  /// less than 24 h before a dose.
  static func warnAboveDailyLimit(_ doses: [ScheduledDose], limits: ActuatorLimits) {
    func startedWithin24Hours(before index: Int, _ milligrams: [Double]) -> Double {
      doses.indices.filter {
        $0 < index && doses[index].startHours - doses[$0].startHours < 24 - 1e-9
      }.reduce(0) { $0 + milligrams[$1] }
    }
    let requested = doses.map(\.milligrams)
    let peak =
      doses.indices.map { requested[$0] + startedWithin24Hours(before: $0, requested) }.max() ?? 0
    let maximum = limits.maximumDosePer24HoursMilligrams
    guard peak > maximum else { return }

    // Replays the regimen through the actuator, which also applies the
    // single-dose limit and the dose increment.
    let actuator = DoseActuator(limits: limits)
    var delivered: [Double] = []
    var lowered: [(index: Int, milligrams: Double)] = []
    for index in doses.indices {
      let result = actuator.limited(
        requested[index],
        milligramsInPrevious24Hours: startedWithin24Hours(
          before: index, delivered))
      delivered.append(result.doseMilligrams)
      if result.interventions.contains(.clampedToDailyMaximum) {
        lowered.append((index, result.doseMilligrams))
      }
    }
    let consequence: String
    if let first = lowered.first {
      let dose = doses[first.index]
      consequence =
        "the actuator would lower \(lowered.count) of the \(doses.count) doses, the first at \(formatNumber(dose.startHours)) h from \(formatNumber(dose.milligrams)) to \(formatNumber(first.milligrams)) mg"
    } else {
      let deliveredPeak =
        doses.indices.map { delivered[$0] + startedWithin24Hours(before: $0, delivered) }.max() ?? 0
      consequence =
        "after the actuator's limit per dose and rounding to \(formatNumber(limits.doseIncrementMilligrams)) mg, at most \(formatNumber(deliveredPeak)) mg would start within 24 h"
    }
    printError(
      "titrate simulate: warning: the doses started within 24 h add up to as much as \(formatNumber(peak)) mg, above the \(formatNumber(maximum)) mg limit per 24 h; simulated as given (\(consequence))"
    )
  }

  /// Warns when a dose's infusion is shorter than the minimum infusion
  /// time or faster than the rate limit. The suggested time is the one
  /// the environment would use, which lies on the simulation grid.
  static func warnAboutInfusion(_ milligrams: Double, infusionHours: Double, rules: DosingRules) {
    let environmentHours = formatNumber(rules.infusionHours(doseMilligrams: milligrams))
    if infusionHours < rules.minimumInfusionHours {
      printError(
        "titrate simulate: warning: --infusion-hours \(formatNumber(infusionHours)) is below the \(formatNumber(rules.minimumInfusionHours)) h minimum infusion time; simulated as given (the environment would infuse \(formatNumber(milligrams)) mg over \(environmentHours) h)"
      )
    }
    let limit = rules.maximumInfusionRateMilligramsPerMinute
    let rate = milligrams / (infusionHours * 60)
    if rate > limit {
      printError(
        String(
          format:
            "titrate simulate: warning: %.0f mg over %g h is %.1f mg/min, above the %g mg/min limit; simulated as given (infuse over %@ h or longer to respect it)",
          milligrams, infusionHours, rate, limit, environmentHours))
    }
  }
}
