import Foundation
import TitratePKPD

/// Per-patient values of the current episode, column-major
/// (`index * patientCount + p`).
struct WarfarinEpisodeRecords {
  let patientCount: Int
  let episodeDays: Int
  let measurementCount: Int
  /// True INR at the start of day d (d = 0...episodeDays; day episodeDays
  /// is the episode end).
  var trueDailyINR: [Double]
  /// Delivered racemic dose of day d, mg.
  var doses: [Double]
  /// Reported INR of the m-th scheduled measurement.
  var measuredINR: [Double]
  /// Scheduled measurements taken so far (the same for every patient).
  var measurementsTaken = 0
  /// Whether the current day's morning INR was drawn.
  var measuredToday = false
  var episodeReturn: [Double]
  var episodeCost: [Double]
  /// Grid points of the episode with true INR in range, below it, and
  /// above the bleeding threshold.
  var gridPointsInRange: [Double]
  var gridPointsBelowRange: [Double]
  var gridPointsAboveBleedingThreshold: [Double]
  var maximumTrueINR: [Double]
  /// Dose interventions of the actuator, counts.
  var rounded: [Double]
  var clampedToMaximum: [Double]
  var nonFinite: [Double]
  var negative: [Double]

  init(patientCount: Int, episodeDays: Int, measurementCount: Int) {
    self.patientCount = patientCount
    self.episodeDays = episodeDays
    self.measurementCount = measurementCount
    let zeros = [Double](repeating: 0, count: patientCount)
    trueDailyINR = [Double](repeating: 0, count: (episodeDays + 1) * patientCount)
    doses = [Double](repeating: 0, count: episodeDays * patientCount)
    measuredINR = [Double](repeating: 0, count: measurementCount * patientCount)
    episodeReturn = zeros
    episodeCost = zeros
    gridPointsInRange = zeros
    gridPointsBelowRange = zeros
    gridPointsAboveBleedingThreshold = zeros
    maximumTrueINR = zeros
    rounded = zeros
    clampedToMaximum = zeros
    nonFinite = zeros
    negative = zeros
  }

  mutating func clear() {
    self = WarfarinEpisodeRecords(
      patientCount: patientCount, episodeDays: episodeDays, measurementCount: measurementCount)
  }

  /// Returns the most recent reported INR of patient `p`, or nil before
  /// the first.
  func lastMeasuredINR(patient p: Int) -> Double? {
    measurementsTaken > 0 ? measuredINR[(measurementsTaken - 1) * patientCount + p] : nil
  }

  /// Returns the reported INR before the most recent one, or nil.
  func previousMeasuredINR(patient p: Int) -> Double? {
    measurementsTaken > 1 ? measuredINR[(measurementsTaken - 2) * patientCount + p] : nil
  }
}

// The daily step: dose actuator, RK4 over the day, reward and cost, and
// the scheduled INR draws.
extension WarfarinEnvironment {
  /// Converts an action to a deliverable racemic dose in mg and counts
  /// each intervention: a non-finite request gives 0, a negative one 0, a
  /// request above the maximum the maximum, and anything else is rounded
  /// to the nearest tablet step.
  func deliverableDose(action: Float, patient p: Int) -> Double {
    let dosing = definition.dosing
    let step = dosing.doseStepMilligrams
    let requested =
      actionMode == .discreteLevels ? Double(action) * step : Double(action)
    guard requested.isFinite else {
      records.nonFinite[p] += 1
      return 0
    }
    if requested < 0 {
      records.negative[p] += 1
      return 0
    }
    if requested > dosing.maximumDailyDoseMilligrams {
      records.clampedToMaximum[p] += 1
      return dosing.maximumDailyDoseMilligrams
    }
    let rounded = (requested / step).rounded() * step
    if abs(rounded - requested) > 1e-9 { records.rounded[p] += 1 }
    return min(rounded, dosing.maximumDailyDoseMilligrams)
  }

  /// Puts each patient's S-warfarin dose into the depot.
  func administerDoses(_ actions: [Float]) {
    let model = definition.model
    let sFraction = model.sEnantiomerFraction * model.extraBioavailability
    for p in 0..<batchSize {
      let dose = deliverableDose(action: actions[p], patient: p)
      records.doses[day * batchSize + p] = dose
      state[WarfarinBatchModel.depot * batchSize + p] += dose * sFraction
    }
  }

  /// Integrates 24 h, scoring the true INR at every grid point.
  func simulateDay(rewards: inout [Float], costs: inout [Float]) {
    let dosing = definition.dosing
    let reward = definition.reward
    let stepsPerDay = dosing.stepsPerDay
    let stepHours = dosing.integrationStepHours
    let n = batchSize
    var inRange = [Double](repeating: 0, count: n)
    var above = [Double](repeating: 0, count: n)
    var below = [Double](repeating: 0, count: n)
    let startHours = Double(day) * 24
    let model = self.model

    // Step the batch and classify the true INR at every grid point.
    state.withUnsafeMutableBufferPointer { buffer in
      let x = buffer.baseAddress!
      for stepIndex in 0..<stepsPerDay {
        integrator.step(
          x, timeHours: startHours + Double(stepIndex) * stepHours, stepHours: stepHours,
          rightHandSide: model)
        for p in 0..<n {
          let inr = model.inr(state: x, patient: p)
          if inr < reward.targetLowerINR {
            below[p] += 1
          } else if inr <= reward.targetUpperINR {
            inRange[p] += 1
          }
          if inr > reward.bleedingThresholdINR { above[p] += 1 }
          if inr > records.maximumTrueINR[p] { records.maximumTrueINR[p] = inr }
        }
      }
    }

    // Turn the day's counts into reward, cost and the episode records.
    let inrs = trueINRs
    for p in 0..<n {
      let inRangeFraction = inRange[p] / Double(stepsPerDay)
      let aboveFraction = above[p] / Double(stepsPerDay)
      let value =
        reward.inRangeRewardPerDay * inRangeFraction
        - reward.aboveBleedingThresholdPenaltyPerDay * aboveFraction
      rewards[p] = Float(value)
      costs[p] = Float(aboveFraction)
      records.episodeReturn[p] += value
      records.episodeCost[p] += aboveFraction
      records.gridPointsInRange[p] += inRange[p]
      records.gridPointsBelowRange[p] += below[p]
      records.gridPointsAboveBleedingThreshold[p] += above[p]
      records.trueDailyINR[(day + 1) * n + p] = inrs[p]
    }
  }

  /// Draws the morning INR when the current day is a measurement day:
  /// reported = INR exp(sigma e), e ~ N(0, 1), rounded to the reporting
  /// resolution. One normal draw per patient and measurement.
  func measureINRIfScheduled() {
    let index = records.measurementsTaken
    guard day < episodeDays, index < measurementDayIndices.count,
      measurementDayIndices[index] == day
    else {
      records.measuredToday = false
      return
    }
    let sigma = definition.model.inrResidualLogStandardDeviation
    let resolution = definition.measurements.reportingResolution
    let inrs = trueINRs
    for p in 0..<batchSize {
      var reported = inrs[p] * exp(sigma * noiseGenerator.nextStandardNormal())
      if resolution > 0 { reported = (reported / resolution).rounded() * resolution }
      records.measuredINR[index * batchSize + p] = reported
    }
    records.measurementsTaken += 1
    records.measuredToday = true
  }
}
