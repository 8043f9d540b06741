import Foundation

// The file-defined baseline policies of a linear-kind environment.
extension LinearEnvironment {
  public var baselineNames: [String] { definition.baselineNames }

  public func baselineActions(named name: String) throws(BaselineError) -> [Float] {
    guard let baseline = definition.baselines.first(where: { $0.name == name }) else {
      throw .unknownBaseline(name: name, known: baselineNames)
    }
    let dosing = definition.dosing
    // Validation guarantees that the dose and every interval are choices.
    let doseIndex = dosing.doseLevels.firstIndex(of: baseline.dose) ?? 0
    let intervals = baselineIntervals(baseline)
    return intervals.map { hours in
      let intervalIndex = dosing.intervalHoursChoices.firstIndex(of: hours) ?? 0
      return Float(doseIndex * dosing.intervalHoursChoices.count + intervalIndex)
    }
  }

  /// Returns each patient's interval under `baseline` at the current
  /// decision, hours.
  private func baselineIntervals(_ baseline: LinearBaselineDefinition) -> [Double] {
    switch baseline.kind {
    case .fixed:
      return [Double](repeating: baseline.intervalHours ?? 0, count: batchSize)
    case .levelToIntervalTable:
      if baseline.reassessEachCycle == false, let fixed = chartIntervals[baseline.name] {
        return fixed
      }
      let levelIndex = baseline.levelIndex ?? 0
      let hours = definition.measurements.levelHoursAfterDose[levelIndex]
      let intervals = (0..<batchSize).map { p in
        let level = cycles.measuredLevels[levelIndex * batchSize + p]
        return baseline.chartInterval(level: level, atHours: hours) ?? 0
      }
      if baseline.reassessEachCycle == false { chartIntervals[baseline.name] = intervals }
      return intervals
    }
  }
}
