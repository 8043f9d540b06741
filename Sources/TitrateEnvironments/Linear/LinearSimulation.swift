import Foundation
import TitratePKPD

/// Per-patient state of the current dosing cycle.
struct LinearCycleState {
  let patientCount: Int
  let levelCount: Int
  /// Grid index of the patient's clock.
  var currentStep: [Int]
  /// Grid index of the start of the current cycle's dose.
  var cycleStartStep: [Int]
  /// Dose of the current cycle, mg.
  var doseMilligrams: [Double]
  /// Infusion rate of the current cycle's dose, mg/h (0 for bolus and oral).
  var infusionRateMilligramsPerHour: [Double]
  /// Length of the previous cycle, h (0 in the first cycle).
  var previousIntervalHours: [Double]
  /// Maximum true concentration of the current cycle on the grid, mg/L.
  var peak: [Double]
  /// Cumulative AUC at the start of the current cycle, mg*h/L.
  var cycleStartAUC: [Double]
  /// True concentration just before the current cycle's dose (0 in the
  /// first cycle), mg/L.
  var trueTrough: [Double]
  /// Reported trough before the current cycle's dose (0 when none), mg/L.
  var measuredTrough: [Double]
  /// Reported levels of the current cycle, `level * patientCount + p`.
  var measuredLevels: [Double]

  init(patientCount: Int, levelCount: Int) {
    self.patientCount = patientCount
    self.levelCount = levelCount
    let zeros = [Double](repeating: 0, count: patientCount)
    currentStep = [Int](repeating: 0, count: patientCount)
    cycleStartStep = currentStep
    doseMilligrams = zeros
    infusionRateMilligramsPerHour = zeros
    previousIntervalHours = zeros
    peak = zeros
    cycleStartAUC = zeros
    trueTrough = zeros
    measuredTrough = zeros
    measuredLevels = [Double](repeating: 0, count: levelCount * patientCount)
  }
}

/// The regimen one decision sets for every patient.
struct LinearRegimen {
  /// Dose of the next cycle, mg.
  var dosesMilligrams: [Double]
  /// Length of the current cycle, grid steps.
  var intervalSteps: [Int]
}

// Dose actuator, cycle stepping and scoring.
extension LinearEnvironment {
  /// Converts a dose level to a deliverable dose in mg for one patient:
  /// scaled by weight for per-kg levels, rounded to the deliverable
  /// increment, and capped at `safety.maximumDoseMilligrams`.
  func deliverableDose(level: Double, _ patient: LinearPatient) -> Double {
    let dosing = definition.dosing
    var milligrams = level
    if dosing.doseBasis == .milligramsPerKilogram {
      milligrams *= patient.covariates.weightKilograms
    }
    if dosing.doseRoundingMilligrams > 0 {
      let increment = dosing.doseRoundingMilligrams
      milligrams = max((milligrams / increment).rounded() * increment, increment)
    }
    return min(milligrams, definition.safety.maximumDoseMilligrams)
  }

  /// Decodes each action into the next dose and the current interval.
  /// An index outside the action space is clamped into it and counted; a
  /// dose above the cap is clamped and counted. A non-finite action is
  /// counted and not dosed: the patient gets 0 mg and the shortest
  /// interval, so the next decision comes as soon as the file allows.
  func applyActuator(_ actions: [Float]) -> LinearRegimen {
    let dosing = definition.dosing
    var regimen = LinearRegimen(
      dosesMilligrams: [Double](repeating: 0, count: batchSize),
      intervalSteps: [Int](repeating: 0, count: batchSize))
    for p in 0..<batchSize {
      let action = actions[p]
      var index = 0
      if action.isFinite {
        // Bounded first: Int(_:) traps on a value beyond Int's range.
        index = Int(min(max(action.rounded(), -1), Float(dosing.actionCount)))
      }
      if !action.isFinite {
        records.invalidActions[p] += 1
        regimen.dosesMilligrams[p] = 0
        regimen.intervalSteps[p] = dosing.steps(dosing.intervalHoursChoices.min()!)
        continue
      }
      if index < 0 || index >= dosing.actionCount {
        records.invalidActions[p] += 1
        index = min(max(index, 0), dosing.actionCount - 1)
      }
      let (level, interval) = dosing.decompose(action: index)
      var requested = dosing.doseLevels[level]
      if dosing.doseBasis == .milligramsPerKilogram {
        requested *= patients[p].covariates.weightKilograms
      }
      let dose = deliverableDose(level: dosing.doseLevels[level], patients[p])
      if dose < requested - max(dosing.doseRoundingMilligrams, 1e-9) {
        records.clampedToMaximum[p] += 1
      }
      regimen.dosesMilligrams[p] = dose
      regimen.intervalSteps[p] = dosing.steps(dosing.intervalHoursChoices[interval])
    }
    return regimen
  }

  /// Gives every patient the next dose at its current clock, then runs the
  /// batch to the decision time, drawing the scheduled levels.
  func startCycles(dosesMilligrams: [Double]) {
    let dosing = definition.dosing
    let infusing = definition.model.route == .intravenousInfusion
    for p in 0..<batchSize {
      cycles.cycleStartStep[p] = cycles.currentStep[p]
      cycles.doseMilligrams[p] = dosesMilligrams[p]
      cycles.infusionRateMilligramsPerHour[p] =
        infusing ? dosesMilligrams[p] / dosing.infusionHours : 0
      records.totalDoseMilligrams[p] += dosesMilligrams[p]
      if decisionsTaken < records.cycles {
        records.cycleDoses[decisionsTaken * batchSize + p] = dosesMilligrams[p]
      }
    }
    cycles.cycleStartAUC = batch.centralAUC()
    switch definition.model.route {
    case .intravenousBolus: batch.addBolus(milligrams: dosesMilligrams, into: .central)
    case .oral:
      let fraction = definition.model.bioavailability
      batch.addBolus(milligrams: dosesMilligrams.map { $0 * fraction }, into: .depot)
    case .intravenousInfusion: break
    }
    cycles.peak = trueConcentrations
    drawLevels(atOffset: 0)

    var rates = [Double](repeating: 0, count: batchSize)
    for offset in 0..<gridSteps.decision {
      for p in 0..<batchSize {
        rates[p] = offset < gridSteps.infusion ? cycles.infusionRateMilligramsPerHour[p] : 0
      }
      batch.advance(infusionRatesMilligramsPerHour: rates)
      let concentrations = trueConcentrations
      for p in 0..<batchSize {
        cycles.currentStep[p] += 1
        cycles.peak[p] = max(cycles.peak[p], concentrations[p])
        if recordsConcentrationTrace {
          concentrationTrace[p].append(concentrations[p])
          aucTrace[p].append(batch.centralAUC(patient: p))
        }
      }
      drawLevels(atOffset: offset + 1)
    }
  }

  /// Draws the levels scheduled `offset` grid steps after the dose start,
  /// in patient order, two normal draws per level (see
  /// `ResidualErrorModel.measure`).
  private func drawLevels(atOffset offset: Int) {
    let error = definition.model.residualError
    let assay = ResidualErrorModel(
      additiveMilligramsPerLiter: error.additiveMilligramsPerLiter,
      proportionalFraction: error.proportional)
    for (level, levelOffset) in gridSteps.levels.enumerated() where levelOffset == offset {
      let concentrations = trueConcentrations
      for p in 0..<batchSize {
        let measured = assay.measure(
          concentrationMilligramsPerLiter: concentrations[p], using: &noiseGenerator)
        cycles.measuredLevels[level * batchSize + p] = measured.valueMilligramsPerLiter
      }
    }
  }

  /// Runs each patient from its decision to the end of its cycle (just
  /// before the next dose), one grid step at a time so that the peak of a
  /// late-peaking (oral) cycle is found, and draws the trough.
  func finishCycles(intervalSteps: [Int]) {
    let error = definition.model.residualError
    let assay = ResidualErrorModel(
      additiveMilligramsPerLiter: error.additiveMilligramsPerLiter,
      proportionalFraction: error.proportional)
    let stepHours = definition.dosing.simulationStepHours
    for p in 0..<batchSize {
      var offset = cycles.currentStep[p] - cycles.cycleStartStep[p]
      let rate = cycles.infusionRateMilligramsPerHour[p]
      while offset < intervalSteps[p] {
        let stepRate = offset < gridSteps.infusion ? rate : 0
        batch.advance(patient: p, steps: 1, infusionRateMilligramsPerHour: stepRate)
        offset += 1
        let concentration = batch.centralConcentration(patient: p)
        cycles.peak[p] = max(cycles.peak[p], concentration)
        if recordsConcentrationTrace {
          concentrationTrace[p].append(concentration)
          aucTrace[p].append(batch.centralAUC(patient: p))
        }
      }
      cycles.currentStep[p] = cycles.cycleStartStep[p] + intervalSteps[p]
      let trough = batch.centralConcentration(patient: p)
      cycles.trueTrough[p] = trough
      cycles.previousIntervalHours[p] = Double(intervalSteps[p]) * stepHours
      if definition.measurements.measureTrough {
        cycles.measuredTrough[p] =
          assay.measure(concentrationMilligramsPerLiter: trough, using: &noiseGenerator)
          .valueMilligramsPerLiter
      }
    }
  }

  /// Scores the cycles that just ended (see `LinearRewardDefinition`).
  func scoreCycles(rewards: inout [Float], costs: inout [Float]) {
    let targets = definition.targets
    let safety = definition.safety
    let weights = definition.reward
    let auc = batch.centralAUC()
    let cycle = decisionsTaken
    for p in 0..<batchSize {
      let interval = cycles.previousIntervalHours[p]
      let cycleAUC = auc[p] - cycles.cycleStartAUC[p]
      let trough = cycles.trueTrough[p]
      let exposure = targets.exposureValue(
        peak: cycles.peak[p], cycleAUC: cycleAUC, intervalHours: interval)
      let score = targets.exposure.score(exposure)
      let troughMet = targets.troughCeilingMilligramsPerLiter.map { trough < $0 }
      let toxic = trough >= safety.toxicTroughMilligramsPerLiter
      let overLimit = auc[p] > safety.cumulativeAUCLimitMilligramHoursPerLiter
      let cost = (toxic ? 1.0 : 0) + (overLimit ? 1.0 : 0)
      let reward =
        weights.exposureWeight * score + weights.troughWeight * ((troughMet ?? false) ? 1 : 0)
        - weights.toxicityWeight * cost
      rewards[p] = Float(reward)
      costs[p] = Float(cost)

      records.episodeReturn[p] += reward
      records.episodeCost[p] += cost
      records.exposureScore[p] += score
      records.targetAttained[p] += score >= 1 ? 1 : 0
      records.troughBelowCeiling[p] += (troughMet ?? false) ? 1 : 0
      records.toxicTrough[p] += toxic ? 1 : 0
      records.cumulativeAUC[p] = auc[p]
      records.cycleIntervals[cycle * batchSize + p] = interval
      records.cyclePeaks[cycle * batchSize + p] = cycles.peak[p]
      records.cycleTroughs[cycle * batchSize + p] = trough
      records.cycleExposure[cycle * batchSize + p] = exposure
    }
  }
}
