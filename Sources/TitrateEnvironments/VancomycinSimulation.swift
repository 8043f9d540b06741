import TitratePKPD

// The hot path of `VancomycinEnvironment.step`: dosing through the actuator,
// exact simulation of one decision interval, draws, reward and cost. Loops
// run over unsafe per-patient columns and allocate nothing per patient.
extension VancomycinEnvironment {
  /// Turns actions into delivered doses and starts their infusions.
  func administerDoses(_ actions: [Float]) {
    let step = rules.stepsPerDecision
    let gridHours = rules.simulationStepHours
    let peakOffsetSteps = (definition.measurements.peakHoursAfterInfusionEnd / gridHours).rounded()
    let levelMilligrams = rules.doseLevelStepMilligrams
    let rate = state.pointer(.infusionRate)
    let infusionSteps = state.pointer(.infusionSteps)
    let peakStep = state.pointer(.peakStep)
    let totalDose = state.pointer(.totalDose)
    let counters: [(DoseInterventions, UnsafeMutablePointer<Double>)] = [
      (.rounded, state.pointer(.rounded)),
      (.clampedToSingleMaximum, state.pointer(.clampedToSingleMaximum)),
      (.clampedToDailyMaximum, state.pointer(.clampedToDailyMaximum)),
      (.nonFinite, state.pointer(.nonFinite)), (.negative, state.pointer(.negative)),
    ]
    let history = state.recentDoses.baseAddress!
    let historyLength = state.historyLength
    let count = batchSize
    let startHours = hoursSinceStart
    let bayesianEstimate = bayesianEstimate
    // A local copy, written back after the loop, so that each patient's
    // delivery does not go through the class property's access checks.
    var actuator = actuator
    defer { self.actuator = actuator }

    for p in 0..<count {
      let action = Double(actions[p])
      let requested = actionMode == .discreteLevels ? action * levelMilligrams : action
      var previous24Hours = 0.0
      for k in 0..<windowDoseCount { previous24Hours += history[k * count + p] }
      var (dose, interventions) = actuator.deliver(
        requestedMilligrams: requested, milligramsInPrevious24Hours: previous24Hours)
      if let shield = activeShield, dose > 0 { dose = shieldedDose(patient: p, dose, shield) }
      if !interventions.isEmpty {
        for (kind, counter) in counters where interventions.contains(kind) { counter[p] += 1 }
      }

      // Shift the dose history by one decision.
      for k in stride(from: historyLength - 1, to: 0, by: -1) {
        history[k * count + p] = history[(k - 1) * count + p]
      }
      history[p] = dose
      totalDose[p] += dose
      state.doseByDecision[decisionIndex * count + p] = dose

      let steps = rules.infusionSteps(doseMilligrams: dose)
      precondition(steps < step, "an infusion must end before the next decision")
      infusionSteps[p] = Double(steps)
      rate[p] = steps > 0 ? dose / (Double(steps) * gridHours) : 0
      peakStep[p] = steps > 0 ? Double(steps) + peakOffsetSteps : -1
      bayesianEstimate?.estimator.addInfusion(
        patient: p, startHours: startHours, durationHours: Double(steps) * gridHours,
        doseMilligrams: dose)
    }
  }

  /// Simulates one decision interval for all patients: infusions, draws,
  /// then the true trough and (at day ends) the daily AUC terms.
  func simulateInterval(rewards: inout [Float], costs: inout [Float]) {
    let count = batchSize
    let gridHours = rules.simulationStepHours
    let stepsPerDecision = rules.stepsPerDecision
    let startHours = hoursSinceStart
    let schedule = definition.measurements
    let troughStep =
      stepsPerDecision - Int((schedule.troughHoursBeforeDose / gridHours).rounded())
    // The next dose is number decisionIndex + 2 (1-based); no trough is
    // drawn before the episode end.
    let drawsTrough =
      decisionIndex + 2 >= schedule.firstTroughBeforeDoseNumber
      && decisionIndex + 1 < rules.decisionsPerEpisode

    let rate = state.pointer(.infusionRate)
    let infusionSteps = state.pointer(.infusionSteps)
    let peakStep = state.pointer(.peakStep)
    let peakTrue = state.pointer(.peakConcentrationScratch)
    let troughTrue = state.pointer(.troughConcentrationScratch)
    let concentration = state.buffer(.concentration)
    // A local reference, so that the per-patient calls below do not
    // retain, release and access-check the class property each time.
    let batch = batch

    // Each patient jumps from event to event (end of infusion, peak draw,
    // trough draw, end of interval) with the batch's stored powers of two
    // of its transition, instead of stepping all 48 grid steps.
    let decisionSteps = stepsPerDecision
    withUnsafeTemporaryAllocation(of: Int.self, capacity: 12) { scratch in
      // Up to four events: their steps and kinds (0 end of infusion, 1 peak,
      // 2 trough, 3 end of interval), then each segment's length.
      let eventSteps = scratch.baseAddress!
      let eventKinds = eventSteps + 4
      let segmentSteps = eventSteps + 8
      withUnsafeTemporaryAllocation(of: Double.self, capacity: 8) { doubles in
        let segmentRates = doubles.baseAddress!
        let concentrations = segmentRates + 4
        for p in 0..<count {
          let infusionEnd = Int(infusionSteps[p])
          var eventCount = 0
          func insert(_ step: Int, _ kind: Int) {
            // Insertion into the sorted list; at most four entries.
            var index = eventCount
            while index > 0 && eventSteps[index - 1] > step {
              eventSteps[index] = eventSteps[index - 1]
              eventKinds[index] = eventKinds[index - 1]
              index -= 1
            }
            eventSteps[index] = step
            eventKinds[index] = kind
            eventCount += 1
          }
          if infusionEnd > 0 { insert(infusionEnd, 0) }
          // A peak due after the next decision is not drawn (as before).
          if peakStep[p] > 0 && Int(peakStep[p]) <= decisionSteps { insert(Int(peakStep[p]), 1) }
          if drawsTrough { insert(troughStep, 2) }
          insert(decisionSteps, 3)

          var position = 0
          for index in 0..<eventCount {
            segmentSteps[index] = eventSteps[index] - position
            segmentRates[index] = position < infusionEnd ? rate[p] : 0
            position = eventSteps[index]
          }
          batch.advance(
            patient: p, segmentSteps: segmentSteps, segmentRatesMilligramsPerHour: segmentRates,
            segmentCount: eventCount, centralConcentrations: concentrations)
          for index in 0..<eventCount {
            if eventKinds[index] == 1 { peakTrue[p] = concentrations[index] }
            if eventKinds[index] == 2 { troughTrue[p] = concentrations[index] }
          }
        }
      }
    }

    recordLevels(
      peakConcentrations: peakTrue, troughConcentrations: drawsTrough ? troughTrue : nil,
      troughTimeHours: startHours + Double(troughStep) * gridHours)

    batch.centralConcentrations(into: concentration)
    scoreTroughs(concentration: concentration, rewards: &rewards, costs: &costs)
    let endHours = startHours + Double(stepsPerDecision) * gridHours
    let dayEnds = endHours / 24
    if abs(dayEnds - dayEnds.rounded()) < 1e-9 {
      scoreDay(Int(dayEnds.rounded()) - 1, rewards: &rewards, costs: &costs)
    }
  }

  /// Measures this interval's peaks (for patients with a peak due before
  /// the next decision) and troughs (all patients, when
  /// `troughConcentrations` is given) with the residual error, and stores
  /// each as the latest level of its kind.
  ///
  /// Noise is drawn after the simulation in patient order, the peak slot
  /// before the trough slot, two normal draws per slot (proportional, then
  /// additive). A slot without a level still uses its draws, so the draws
  /// depend neither on the block size nor on the doses.
  private func recordLevels(
    peakConcentrations: UnsafeMutablePointer<Double>,
    troughConcentrations: UnsafeMutablePointer<Double>?, troughTimeHours: Double
  ) {
    let count = batchSize
    let gridHours = rules.simulationStepHours
    let stepsPerDecision = Double(rules.stepsPerDecision)
    let startHours = hoursSinceStart
    let peakStep = state.pointer(.peakStep)
    let reportedAsZero = state.pointer(.measurementsReportedAsZero)
    let peaks = LevelColumns(state: state, kind: .peak)
    let troughs = LevelColumns(state: state, kind: .trough)
    let blockSize = 256

    withUnsafeTemporaryAllocation(of: Double.self, capacity: 4 * blockSize) { normals in
      for blockStart in stride(from: 0, to: count, by: blockSize) {
        let blockEnd = min(blockStart + blockSize, count)
        // Every patient has a peak slot (and a trough slot when troughs
        // are drawn) whether or not a level is taken. The noise a patient
        // gets therefore does not depend on the others' doses, and policies
        // compared on one cohort see the same measurement noise.
        let levelCount = (blockEnd - blockStart) * (troughConcentrations == nil ? 1 : 2)
        noiseGenerator.fillStandardNormals(
          UnsafeMutableBufferPointer(rebasing: normals[0..<(2 * levelCount)]))

        var nextNormal = 0
        func measure(
          _ concentration: Double, patient p: Int, timeHours: Double, into columns: LevelColumns
        ) {
          let assayValue = residualError.unreportedAssayValue(
            concentrationMilligramsPerLiter: concentration,
            proportionalDraw: normals[nextNormal], additiveDraw: normals[nextNormal + 1])
          nextNormal += 2
          // An assay reports no negative level (see `ResidualErrorModel`).
          if assayValue < 0 { reportedAsZero[p] += 1 }
          let reported = max(assayValue, 0)
          columns.store(patient: p, valueMilligramsPerLiter: reported, timeHours: timeHours)
          bayesianEstimate?.estimator.addLevel(
            patient: p, timeHours: timeHours, concentrationMilligramsPerLiter: reported)
        }
        for p in blockStart..<blockEnd {
          // A peak due after the next decision is not drawn.
          if peakStep[p] > 0 && peakStep[p] <= stepsPerDecision {
            measure(
              peakConcentrations[p], patient: p, timeHours: startHours + peakStep[p] * gridHours,
              into: peaks)
          } else {
            nextNormal += 2
          }
          if let troughConcentrations {
            measure(troughConcentrations[p], patient: p, timeHours: troughTimeHours, into: troughs)
          }
        }
      }
    }
  }

  /// Penalises and costs true troughs above the limit (the concentration
  /// just before the next dose, or at the episode end).
  private func scoreTroughs(
    concentration: UnsafeMutableBufferPointer<Double>, rewards: inout [Float],
    costs: inout [Float]
  ) {
    let reward = definition.reward
    let maximumTrough = state.pointer(.maximumTrueTrough)
    let troughsAbove = state.pointer(.troughsAboveLimit)
    let firstAbove = state.pointer(.firstTroughAboveLimitHours)
    let episodeReturn = state.pointer(.episodeReturn)
    let episodeCost = state.pointer(.episodeCost)
    let troughHours = hoursSinceStart + rules.decisionIntervalHours
    let troughs = state.troughByDecision.baseAddress! + decisionIndex * batchSize
    for p in 0..<batchSize {
      let trough = concentration[p]
      troughs[p] = trough
      maximumTrough[p] = max(maximumTrough[p], trough)
      if trough > reward.troughLimitMilligramsPerLiter {
        if troughsAbove[p] == 0 {
          firstAbove[p] = troughHours
          costs[p] += Float(definition.cost.perEpisodeWithTroughAboveLimit)
        }
        troughsAbove[p] += 1
        rewards[p] -= Float(reward.penaltyPerTroughAboveLimit)
        costs[p] += Float(definition.cost.perTroughAboveLimit)
      }
      episodeReturn[p] += Double(rewards[p])
      episodeCost[p] += Double(costs[p])
    }
  }

  /// Adds the weighted score of day `day` (0-based) and its cost.
  private func scoreDay(_ day: Int, rewards: inout [Float], costs: inout [Float]) {
    let reward = definition.reward
    let auc = batch.centralAUC()
    let aucAtDayStart = state.pointer(.aucAtDayStart)
    let episodeReturn = state.pointer(.episodeReturn)
    let episodeCost = state.pointer(.episodeCost)
    let weight = reward.dayWeights[day]
    for p in 0..<batchSize {
      let dayAUC = auc[p] - aucAtDayStart[p]
      aucAtDayStart[p] = auc[p]
      state.dayAUC[day * batchSize + p] = dayAUC
      let score: Double
      if dayAUC < reward.dailyAUCLowerMilligramHoursPerLiter {
        let distance = reward.dailyAUCLowerMilligramHoursPerLiter - dayAUC
        score = -min(
          reward.maximumDailyPenalty, reward.penaltyPerMilligramHourPerLiterBelow * distance)
      } else if dayAUC > reward.dailyAUCUpperMilligramHoursPerLiter {
        let distance = dayAUC - reward.dailyAUCUpperMilligramHoursPerLiter
        score = -min(
          reward.maximumDailyPenalty, reward.penaltyPerMilligramHourPerLiterAbove * distance)
        costs[p] += Float(definition.cost.perDayAboveAUCUpper)
        episodeCost[p] += definition.cost.perDayAboveAUCUpper
      } else {
        score = reward.inTargetReward
      }
      if day == reward.dayWeights.count - 1,
        dayAUC < definition.cost.untreatedDailyAUCMilligramHoursPerLiter
      {
        costs[p] += Float(definition.cost.perEpisodeUntreated)
        episodeCost[p] += definition.cost.perEpisodeUntreated
      }
      rewards[p] += Float(weight * score)
      episodeReturn[p] += weight * score
    }
  }

  /// Returns the current observation rows (see `VancomycinObservation`).
  ///
  /// Rows are written one patient at a time, every entry of each, into
  /// uninitialised storage: one pass over the output instead of a zero fill
  /// and a strided pass per entry.
  func observations() -> [Float] {
    let count = batchSize
    let width = observationSize
    let now = hoursSinceStart
    let age = state.pointer(.ageYears)
    let weight = state.pointer(.weightKilograms)
    let female = state.pointer(.female)
    let creatinine = state.pointer(.serumCreatinine)
    let creatinineClearance = state.pointer(.creatinineClearance)
    let haemodialysis = state.pointer(.haemodialysis)
    let intensiveCare = state.pointer(.intensiveCare)
    let intensiveCareEntry = width - 1
    let history = UnsafePointer(state.recentDoses.baseAddress!)
    let trough = LevelColumns(state: state, kind: .trough)
    let peak = LevelColumns(state: state, kind: .peak)
    // Every entry below is written, so none of the storage stays unset.
    precondition(
      width
        == (bayesianEstimate == nil
          ? VancomycinObservation.count : VancomycinObservation.countWithBayesianEstimate),
      "observation width \(width) does not match the entries written")

    return [Float](unsafeUninitializedCapacity: count * width) { buffer, initializedCount in
      for p in 0..<count {
        let row = buffer.baseAddress! + p * width
        row[VancomycinObservation.ageYears] = Float(age[p])
        row[VancomycinObservation.weightKilograms] = Float(weight[p])
        row[VancomycinObservation.female] = Float(female[p])
        row[VancomycinObservation.serumCreatinineMilligramsPerDeciliter] = Float(creatinine[p])
        row[VancomycinObservation.creatinineClearanceMillilitersPerMinute] =
          Float(creatinineClearance[p])
        row[VancomycinObservation.haemodialysis] = Float(haemodialysis[p])
        row[intensiveCareEntry] = Float(intensiveCare[p])
        row[VancomycinObservation.hoursSinceStart] = Float(now)
        row[VancomycinObservation.previousDoseMilligrams] = Float(history[p])
        row[VancomycinObservation.secondPreviousDoseMilligrams] = Float(history[count + p])

        row[VancomycinObservation.troughMilligramsPerLiter] = Float(trough.measured[p])
        row[VancomycinObservation.troughAvailable] = Float(trough.available[p])
        row[VancomycinObservation.hoursSinceTrough] =
          trough.available[p] > 0 ? Float(now - trough.timeHours[p]) : 0
        row[VancomycinObservation.peakMilligramsPerLiter] = Float(peak.measured[p])
        row[VancomycinObservation.peakAvailable] = Float(peak.available[p])
        row[VancomycinObservation.hoursSincePeak] =
          peak.available[p] > 0 ? Float(now - peak.timeHours[p]) : 0

        row[VancomycinObservation.previousTroughMilligramsPerLiter] =
          Float(trough.previousMeasured[p])
        row[VancomycinObservation.previousTroughAvailable] = Float(trough.previousAvailable[p])
        row[VancomycinObservation.hoursSincePreviousTrough] =
          trough.previousAvailable[p] > 0 ? Float(now - trough.previousTimeHours[p]) : 0
        row[VancomycinObservation.previousPeakMilligramsPerLiter] = Float(peak.previousMeasured[p])
        row[VancomycinObservation.previousPeakAvailable] = Float(peak.previousAvailable[p])
        row[VancomycinObservation.hoursSincePreviousPeak] =
          peak.previousAvailable[p] > 0 ? Float(now - peak.previousTimeHours[p]) : 0
      }
      // Entries 21 to 27 of every row, when the definition has them.
      bayesianEstimate?.writeFeatures(
        into: buffer, width: width, nowHours: now, intervalHours: rules.decisionIntervalHours)
      initializedCount = count * width
    }
  }
}

/// The kinds of drug level drawn in an interval.
enum Draw { case trough, peak }

/// The state columns of the latest and the previous level of one kind.
private struct LevelColumns {
  let measured: UnsafeMutablePointer<Double>
  let available: UnsafeMutablePointer<Double>
  let timeHours: UnsafeMutablePointer<Double>
  let previousMeasured: UnsafeMutablePointer<Double>
  let previousAvailable: UnsafeMutablePointer<Double>
  let previousTimeHours: UnsafeMutablePointer<Double>

  init(state: PatientStateColumns, kind: Draw) {
    switch kind {
    case .trough:
      measured = state.pointer(.troughMeasured)
      available = state.pointer(.troughAvailable)
      timeHours = state.pointer(.troughTimeHours)
      previousMeasured = state.pointer(.previousTroughMeasured)
      previousAvailable = state.pointer(.previousTroughAvailable)
      previousTimeHours = state.pointer(.previousTroughTimeHours)
    case .peak:
      measured = state.pointer(.peakMeasured)
      available = state.pointer(.peakAvailable)
      timeHours = state.pointer(.peakTimeHours)
      previousMeasured = state.pointer(.previousPeakMeasured)
      previousAvailable = state.pointer(.previousPeakAvailable)
      previousTimeHours = state.pointer(.previousPeakTimeHours)
    }
  }

  /// Makes the latest level of patient `p` the previous one and stores a
  /// new latest level.
  func store(patient p: Int, valueMilligramsPerLiter: Double, timeHours time: Double) {
    previousMeasured[p] = measured[p]
    previousAvailable[p] = available[p]
    previousTimeHours[p] = timeHours[p]
    measured[p] = valueMilligramsPerLiter
    available[p] = 1
    timeHours[p] = time
  }
}

extension ResidualErrorModel {
  /// Returns the simulated assay value before negative results are
  /// reported as 0, mg/L: the formula of `measure(
  /// concentrationMilligramsPerLiter:using:)` with its two normal draws given
  /// as `proportionalDraw` (e1) and `additiveDraw` (e2), for callers that
  /// draw normals in bulk.
  func unreportedAssayValue(
    concentrationMilligramsPerLiter concentration: Double, proportionalDraw: Double,
    additiveDraw: Double
  ) -> Double {
    concentration * (1 + proportionalFraction * proportionalDraw)
      + additiveMilligramsPerLiter * additiveDraw
  }
}
