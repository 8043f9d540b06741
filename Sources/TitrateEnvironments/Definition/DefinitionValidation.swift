import Foundation

extension EnvironmentDefinition {
  /// Checks every value against its allowed range and every cross-reference
  /// (model names, source keys, schedule fits in the interval), collecting
  /// all problems.
  /// - Throws: `EnvironmentDefinitionError.invalid` listing each problem
  ///   with its JSON path, the value, the allowed range and the fix.
  public func validate() throws(EnvironmentDefinitionError) {
    var issues = IssueCollector()
    issues.checkHeader(
      formatVersion: formatVersion, supportedVersion: Self.supportedFormatVersion, name: name)
    // Names become file names, HDF5 group names and CSV fields.
    for (path, identifier) in [("name", name)] + populationNames.map({ ("populations.\($0)", $0) })
    where !identifier.isEmpty && !isPlainIdentifier(identifier) {
      issues.add(
        path,
        "uses the name \"\(identifier)\", which has characters other than letters, digits, "
          + "'_' and '-'. Rename it, for example \"icu_arc\".")
    }
    validateSources(&issues)

    if models.isEmpty { issues.add("models", "is empty. Define at least one PK model.") }
    for key in models.keys.sorted() {
      models[key]!.validate(path: "models.\(key)", sourceKeys: sources.map(\.key), &issues)
    }

    if populations.isEmpty {
      issues.add("populations", "is empty. Define at least one site population.")
    }
    for name in populationNames {
      let population = populations[name]!
      let path = "populations.\(name)"
      // With no models at all, the empty `models` is the one problem to report.
      if !models.isEmpty, models[population.model] == nil {
        let known = models.keys.sorted()
        var message =
          "is \"\(population.model)\", which is not a model of this file. Use one of: "
          + known.joined(separator: ", ") + "."
        if let guess = closestName(to: population.model, among: known) {
          message += " Did you mean \"\(guess)\"?"
        }
        issues.add("\(path).model", message)
      }
      population.covariates.validate(path: "\(path).covariates", &issues)
      population.measurementError?.validate(path: "\(path).measurementError", &issues)
      if let fraction = population.intensiveCareFraction {
        issues.requireRange(fraction, "\(path).intensiveCareFraction", 0, 1, unit: "")
      }
    }

    edgeCovariates?.covariates.validate(path: "edgeCovariates.covariates", &issues)

    validateDosing(&issues)
    validateRewardAndCost(&issues)
    validateBaselines(&issues)
    validateBayesianEstimate(&issues)
    validateSafety(&issues)
    try issues.finish()
  }

  private func validateSources(_ issues: inout IssueCollector) {
    var seen = Set<String>()
    for (index, source) in sources.enumerated() {
      if source.key.isEmpty || !seen.insert(source.key).inserted {
        issues.add(
          "sources[\(index)].key",
          "is \"\(source.key)\", which is empty or used twice. Give each source a unique key.")
      }
    }
  }

  private func validateDosing(_ issues: inout IssueCollector) {
    let rules = dosing
    issues.requireRange(
      rules.simulationStepHours, "dosing.simulationStepHours", 0, 1, unit: "h", lowOpen: true)
    issues.requireRange(
      rules.decisionIntervalHours, "dosing.decisionIntervalHours", 1, 48, unit: "h")
    issues.requireRange(rules.episodeHours, "dosing.episodeHours", 24, 24 * 14, unit: "h")
    if rules.simulationStepHours > 0 {
      requireMultiple(
        rules.decisionIntervalHours, of: rules.simulationStepHours,
        "dosing.decisionIntervalHours", "the simulation step", &issues)
    }
    requireMultiple(rules.episodeHours, of: 24, "dosing.episodeHours", "24 h", &issues)
    // Daily AUC24 is scored at the end of the decision interval that ends a
    // day, so every day boundary must be a decision time (intervals of 1, 2,
    // 3, 4, 6, 8, 12 or 24 h).
    let interval = rules.decisionIntervalHours
    if interval > 0 && interval.isFinite {
      let perDay = 24 / interval
      if abs(perDay - perDay.rounded()) > 1e-9 {
        issues.add(
          "dosing.decisionIntervalHours",
          "is \(format(interval)), which does not divide 24 h, so some day boundaries would fall "
            + "inside an interval and their AUC24 would not be scored. Use 1, 2, 3, 4, 6, 8, 12 or 24."
        )
      }
    }
    if rules.decisionIntervalHours > 0 {
      requireMultiple(
        rules.episodeHours, of: rules.decisionIntervalHours, "dosing.episodeHours",
        "the decision interval", &issues)
    }
    issues.requireRange(
      rules.maximumInfusionRateMilligramsPerMinute,
      "dosing.maximumInfusionRateMilligramsPerMinute", 0, 100, unit: "mg/min", lowOpen: true)
    issues.requireRange(
      rules.minimumInfusionHours, "dosing.minimumInfusionHours", 0, 12, unit: "h",
      lowOpen: true)

    let limits = actuatorLimits
    let increment = limits.doseIncrementMilligrams
    issues.requireRange(
      increment, "actuatorLimits.doseIncrementMilligrams", 0, 1000, unit: "mg", lowOpen: true)
    let hasIncrement = increment > 0 && increment.isFinite
    if hasIncrement {
      issues.requireRange(
        limits.maximumSingleDoseMilligrams, "actuatorLimits.maximumSingleDoseMilligrams",
        increment, 10_000, unit: "mg",
        fix: "The single-dose limit must be at least one dose increment "
          + "(\(format(increment)) mg); raise it or lower the increment.")
    }
    // Limits below are checked against the single-dose limit, so they wait
    // until it is valid.
    if hasIncrement,
      (increment...10_000).contains(limits.maximumSingleDoseMilligrams)
    {
      issues.requireRange(
        limits.maximumDosePer24HoursMilligrams,
        "actuatorLimits.maximumDosePer24HoursMilligrams", limits.maximumSingleDoseMilligrams,
        20_000, unit: "mg",
        fix: "The 24-h limit must be at least the single-dose limit; raise it.")
      requireMultiple(
        limits.maximumSingleDoseMilligrams, of: increment,
        "actuatorLimits.maximumSingleDoseMilligrams", "the dose increment", &issues)
      requireMultiple(
        limits.maximumDosePer24HoursMilligrams, of: increment,
        "actuatorLimits.maximumDosePer24HoursMilligrams", "the dose increment", &issues)
      issues.requireRange(
        rules.doseLevelStepMilligrams, "dosing.doseLevelStepMilligrams", increment,
        limits.maximumSingleDoseMilligrams, unit: "mg")
      requireMultiple(
        rules.doseLevelStepMilligrams, of: increment, "dosing.doseLevelStepMilligrams",
        "the dose increment", &issues)
      issues.requireRange(
        rules.maximumDoseLevelMilligrams, "dosing.maximumDoseLevelMilligrams",
        rules.doseLevelStepMilligrams, limits.maximumSingleDoseMilligrams, unit: "mg",
        fix: "Dose levels must lie within the actuator's single-dose limit.")
      if rules.doseLevelStepMilligrams > 0 {
        requireMultiple(
          rules.maximumDoseLevelMilligrams, of: rules.doseLevelStepMilligrams,
          "dosing.maximumDoseLevelMilligrams", "the dose level step", &issues)
      }
    }
    // The measurement schedule is checked against the decision interval and
    // the episode length, so a bad timing value is reported alone instead of
    // through ranges derived from it.
    if hasUsableTiming { validateMeasurements(&issues) }
  }

  /// True when the grid step, decision interval and episode length are
  /// finite and inside their ranges, so values derived from them (decision
  /// and day counts) can be computed.
  var hasUsableTiming: Bool {
    let rules = dosing
    return rules.simulationStepHours > 0 && rules.simulationStepHours <= 1
      && (1...48).contains(rules.decisionIntervalHours)
      && (24...(24 * 14)).contains(rules.episodeHours)
  }

  private func validateMeasurements(_ issues: inout IssueCollector) {
    let rules = dosing
    let schedule = measurements
    issues.requireRange(
      schedule.troughHoursBeforeDose, "measurements.troughHoursBeforeDose", 0,
      rules.decisionIntervalHours / 2, unit: "h", lowOpen: true)
    issues.requireRange(
      schedule.peakHoursAfterInfusionEnd, "measurements.peakHoursAfterInfusionEnd", 0,
      rules.decisionIntervalHours, unit: "h")
    if rules.simulationStepHours > 0 {
      requireMultiple(
        schedule.troughHoursBeforeDose, of: rules.simulationStepHours,
        "measurements.troughHoursBeforeDose", "the simulation step", &issues)
      requireMultiple(
        schedule.peakHoursAfterInfusionEnd, of: rules.simulationStepHours,
        "measurements.peakHoursAfterInfusionEnd", "the simulation step", &issues)
    }

    let decisions = rules.decisionsPerEpisode
    if schedule.firstTroughBeforeDoseNumber < 2 || schedule.firstTroughBeforeDoseNumber > decisions
    {
      issues.add(
        "measurements.firstTroughBeforeDoseNumber",
        "is \(schedule.firstTroughBeforeDoseNumber), but must be in [2, \(decisions)] "
          + "(no trough exists before the first dose). Set 2 for a trough before dose 2.")
    }

    // The peak of the largest dose must be drawn before the next trough.
    guard rules.simulationStepHours > 0, rules.maximumInfusionRateMilligramsPerMinute > 0
    else { return }
    let longestInfusionHours =
      Double(rules.infusionSteps(doseMilligrams: actuatorLimits.maximumSingleDoseMilligrams))
      * rules.simulationStepHours
    let lastPeakHours = longestInfusionHours + schedule.peakHoursAfterInfusionEnd
    if lastPeakHours >= rules.decisionIntervalHours - schedule.troughHoursBeforeDose {
      issues.add(
        "measurements.peakHoursAfterInfusionEnd",
        "places the peak of the largest dose at \(format(lastPeakHours)) h, at or after the "
          + "next trough. Shorten the peak delay, raise the infusion rate limit or lengthen "
          + "the decision interval.")
    }
  }

  private func validateRewardAndCost(_ issues: inout IssueCollector) {
    let reward = self.reward
    issues.requireRange(
      reward.dailyAUCLowerMilligramHoursPerLiter, "reward.dailyAUCLowerMilligramHoursPerLiter",
      0, 5000, unit: "mg h/L", lowOpen: true)
    issues.requireRange(
      reward.dailyAUCUpperMilligramHoursPerLiter, "reward.dailyAUCUpperMilligramHoursPerLiter",
      reward.dailyAUCLowerMilligramHoursPerLiter, 5000, unit: "mg h/L", lowOpen: true,
      fix: "The upper end must exceed the lower end.")
    issues.requireRange(
      reward.minimumInhibitoryConcentrationMilligramsPerLiter,
      "reward.minimumInhibitoryConcentrationMilligramsPerLiter", 0, 64, unit: "mg/L",
      lowOpen: true)
    let days = hasUsableTiming ? Int((dosing.episodeHours / 24).rounded()) : reward.dayWeights.count
    if reward.dayWeights.count != days {
      issues.add(
        "reward.dayWeights",
        "has \(reward.dayWeights.count) entries, but the episode has \(days) days. "
          + "Give one weight per day.")
    }
    for (index, weight) in reward.dayWeights.enumerated() {
      issues.requireRange(weight, "reward.dayWeights[\(index)]", 0, 10, unit: "")
    }
    if reward.dayWeights.allSatisfy({ $0 == 0 }) {
      issues.add("reward.dayWeights", "are all 0. Give at least one day a positive weight.")
    }
    let nonNegative: [(Double, String)] = [
      (reward.inTargetReward, "reward.inTargetReward"),
      (reward.penaltyPerMilligramHourPerLiterBelow, "reward.penaltyPerMilligramHourPerLiterBelow"),
      (reward.penaltyPerMilligramHourPerLiterAbove, "reward.penaltyPerMilligramHourPerLiterAbove"),
      (reward.maximumDailyPenalty, "reward.maximumDailyPenalty"),
      (reward.penaltyPerTroughAboveLimit, "reward.penaltyPerTroughAboveLimit"),
      (cost.perTroughAboveLimit, "cost.perTroughAboveLimit"),
      (cost.perEpisodeWithTroughAboveLimit, "cost.perEpisodeWithTroughAboveLimit"),
      (cost.perDayAboveAUCUpper, "cost.perDayAboveAUCUpper"),
      (cost.perEpisodeUntreated, "cost.perEpisodeUntreated"),
    ]
    for (value, path) in nonNegative {
      issues.requireRange(value, path, 0, 1000, unit: "")
    }
    issues.requireRange(
      reward.troughLimitMilligramsPerLiter, "reward.troughLimitMilligramsPerLiter", 0, 200,
      unit: "mg/L", lowOpen: true)
    issues.requireRange(
      cost.untreatedDailyAUCMilligramHoursPerLiter, "cost.untreatedDailyAUCMilligramHoursPerLiter",
      0, reward.dailyAUCLowerMilligramHoursPerLiter, unit: "mg h/L", lowOpen: true)
  }

  private func validateBaselines(_ issues: inout IssueCollector) {
    let guideline = baselines.guideline
    issues.requireRange(
      guideline.loadingMilligramsPerKilogram, "baselines.guideline.loadingMilligramsPerKilogram",
      0, 50, unit: "mg/kg")
    issues.requireRange(
      guideline.maximumLoadingDoseMilligrams, "baselines.guideline.maximumLoadingDoseMilligrams",
      0, 10_000, unit: "mg", lowOpen: true)
    issues.requireRange(
      guideline.maintenanceMilligramsPerKilogram,
      "baselines.guideline.maintenanceMilligramsPerKilogram", 0, 50, unit: "mg/kg")
    issues.requireRange(
      baselines.oracle.targetDailyAUCMilligramHoursPerLiter,
      "baselines.oracle.targetDailyAUCMilligramHoursPerLiter", 0, 5000, unit: "mg h/L",
      lowOpen: true)
    if let bayesian = baselines.bayesian {
      issues.requireRange(
        bayesian.targetDailyAUCMilligramHoursPerLiter,
        "baselines.bayesian.targetDailyAUCMilligramHoursPerLiter", 0, 5000, unit: "mg h/L",
        lowOpen: true)
      if let trough = bayesian.maximumPredictedTroughMilligramsPerLiter {
        issues.requireRange(
          trough, "baselines.bayesian.maximumPredictedTroughMilligramsPerLiter", 0, 200,
          unit: "mg/L", lowOpen: true)
      }
      if bayesianEstimate == nil {
        issues.add(
          "baselines.bayesian",
          "needs MAP estimates, but the definition has no bayesianEstimate section. Add one "
            + "(priorModel) or remove baselines.bayesian.")
      }
    }
  }
}

/// Requires `value` to be a whole multiple of `unitValue` (to 1e-9 relative).
func requireMultiple(
  _ value: Double, of unitValue: Double, _ path: String, _ unitName: String,
  _ issues: inout IssueCollector
) {
  guard value.isFinite, unitValue > 0, unitValue.isFinite else { return }
  let ratio = value / unitValue
  if abs(ratio - ratio.rounded()) > 1e-9 * max(1, abs(ratio)) {
    issues.add(
      path,
      "is \(format(value)), which is not a whole multiple of \(unitName) "
        + "(\(format(unitValue))). Round it to a multiple.")
  }
}

/// True for names made only of ASCII letters, digits, `_` and `-`, which are
/// safe as file names, HDF5 group names and CSV fields.
func isPlainIdentifier(_ text: String) -> Bool {
  !text.isEmpty
    && text.unicodeScalars.allSatisfy { scalar in
      scalar.isASCII
        && (CharacterSet.alphanumerics.contains(scalar) || scalar == "_" || scalar == "-")
    }
}
