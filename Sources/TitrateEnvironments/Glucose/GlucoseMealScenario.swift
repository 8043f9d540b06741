import TitrateRandom

/// One meal of the daily scenario: whether it happens, when and how much.
/// Times follow a normal distribution truncated to [earliest, latest]
/// (draws outside are redrawn) and rounded to the minute; amounts a normal
/// distribution rounded to the gram and floored at 0.
public struct GlucoseMealSlot: Codable, Sendable, Equatable {
  /// Meal name (for the record): breakfast, snack, lunch, ...
  public var name: String
  /// Probability that the meal happens on a day, [0, 1].
  public var probability: Double
  /// Mean time, minutes after midnight.
  public var meanMinuteOfDay: Double
  /// Standard deviation of the time, min, > 0.
  public var standardDeviationMinutes: Double
  /// Earliest time, minutes after midnight.
  public var earliestMinuteOfDay: Double
  /// Latest time, minutes after midnight (< 1440).
  public var latestMinuteOfDay: Double
  /// Mean carbohydrate, g.
  public var meanGrams: Double
  /// Standard deviation of the carbohydrate, g.
  public var standardDeviationGrams: Double
}

/// The random daily meal scenario. The shipped values are those of
/// simglucose's `RandomScenario` (version 0.2.11): breakfast, lunch and
/// dinner with probability 0.95 and three snacks with probability 0.3.
public struct GlucoseMealDefinition: Codable, Sendable, Equatable {
  /// The meals of a day, in time order.
  public var slots: [GlucoseMealSlot]

  func validate(path: String, _ issues: inout IssueCollector) {
    if slots.isEmpty {
      issues.add(jsonPath(path, "slots"), "is empty. List the meals of a day.")
    }
    for (index, slot) in slots.enumerated() {
      let item = "\(jsonPath(path, "slots"))[\(index)]"
      issues.requireRange(slot.probability, jsonPath(item, "probability"), 0, 1, unit: "")
      issues.requireRange(
        slot.earliestMinuteOfDay, jsonPath(item, "earliestMinuteOfDay"), 0, 1439, unit: "min")
      issues.requireRange(
        slot.latestMinuteOfDay, jsonPath(item, "latestMinuteOfDay"), 0, 1439, unit: "min")
      issues.requireRange(
        slot.standardDeviationMinutes, jsonPath(item, "standardDeviationMinutes"), 0, 720,
        unit: "min", lowOpen: true)
      issues.requireRange(slot.meanGrams, jsonPath(item, "meanGrams"), 0, 300, unit: "g")
      issues.requireRange(
        slot.standardDeviationGrams, jsonPath(item, "standardDeviationGrams"), 0, 100, unit: "g")
      let ordered =
        slot.earliestMinuteOfDay <= slot.meanMinuteOfDay
        && slot.meanMinuteOfDay <= slot.latestMinuteOfDay
        && slot.earliestMinuteOfDay < slot.latestMinuteOfDay
      if !ordered {
        issues.add(
          item,
          "has earliest \(format(slot.earliestMinuteOfDay)), mean "
            + "\(format(slot.meanMinuteOfDay)) and latest \(format(slot.latestMinuteOfDay)) "
            + "min; they must satisfy earliest <= mean <= latest with earliest < latest. "
            + "Reorder the times.")
      }
    }
  }

  /// Draws the meals of `days` consecutive days: (minute from the start of
  /// the first day, grams), in time order. Meals of 0 g are dropped.
  public func sampleMeals(days: Int, using generator: inout Xoshiro256)
    -> [(minute: Int, grams: Double)]
  {
    var meals: [(minute: Int, grams: Double)] = []
    for day in 0..<days {
      for slot in slots where generator.nextUniform() < slot.probability {
        let minute = sampleTime(slot, using: &generator)
        let grams = max(
          (slot.meanGrams + slot.standardDeviationGrams * generator.nextStandardNormal())
            .rounded(), 0)
        if grams > 0 { meals.append((day * 1440 + minute, grams)) }
      }
    }
    return meals.sorted { $0.minute < $1.minute }
  }

  /// Draws a meal time from the truncated normal by rejection; the bounds
  /// hold the mean, so at least about a third of the draws are accepted.
  private func sampleTime(_ slot: GlucoseMealSlot, using generator: inout Xoshiro256) -> Int {
    while true {
      let minute =
        slot.meanMinuteOfDay + slot.standardDeviationMinutes * generator.nextStandardNormal()
      if minute >= slot.earliestMinuteOfDay && minute <= slot.latestMinuteOfDay {
        return Int(minute.rounded())
      }
    }
  }
}
