import TitratePKPD

// The hot path of `VancomycinEnvironment.step`: dosing through the actuator,
// exact simulation of one decision interval, draws, reward and cost. Loops
// run over unsafe per-patient columns and allocate nothing per patient.
//
// `runDecision` takes the patients in blocks of `decisionBlockSize` and runs
// every phase on a block before it moves to the next, so that the block's
// state columns stay in cache between phases. Each patient's arithmetic and
// the order of the calls made for one patient are those of running each
// phase over all patients in turn. The noise draws come in the same order
// too, so the results do not depend on the blocking.
extension VancomycinEnvironment {
  /// Patients per block of `runDecision`.
  static let decisionBlockSize = 1024

  /// Runs the current decision for every patient: doses, the interval's
  /// simulation and levels, and the trough and day scores. `rewards` and
  /// `costs` hold `batchSize` entries each and must be zero on entry.
  ///
  /// With `nextObservations`, also writes each block's observation rows as
  /// they will be at the next decision, entries 0 to 20 and the last (the
  /// rows of `batchSize` x `observationSize` entries). Only for a definition
  /// without a `bayesianEstimate` section, whose features need every
  /// patient's refit after the interval.
  func runDecision(
    _ actions: UnsafeBufferPointer<Float>, rewards: UnsafeMutablePointer<Float>,
    costs: UnsafeMutablePointer<Float>, nextObservations: UnsafeMutablePointer<Float>? = nil
  ) {
    precondition(
      nextObservations == nil || bayesianEstimate == nil,
      "observations with MAP features are written after the refit")
    precondition(actions.count == batchSize, "expected \(batchSize) actions, got \(actions.count)")
    let count = batchSize
    let blockSize = Self.decisionBlockSize
    let endHours = hoursSinceStart + Double(rules.stepsPerDecision) * rules.simulationStepHours
    let dayEnds = endHours / 24
    // `hoursSinceStart` at the next decision.
    let nextHours = Double(decisionIndex + 1) * rules.decisionIntervalHours
    let endedDay: Int? =
      abs(dayEnds - dayEnds.rounded()) < 1e-9 ? Int(dayEnds.rounded()) - 1 : nil
    let memo = DoseMemo(
      actuator: actuator, rules: rules,
      peakHoursAfterInfusionEnd: definition.measurements.peakHoursAfterInfusionEnd)
    defer { memo.deallocate() }
    let scratch = IntervalScratch(blockSize: blockSize)
    defer { scratch.deallocate() }
    for blockStart in stride(from: 0, to: count, by: blockSize) {
      let block = blockStart..<min(blockStart + blockSize, count)
      administerDoses(actions, patients: block, memo: memo, scratch: scratch)
      simulateInterval(patients: block, scratch: scratch)
      scoreTroughs(patients: block, ends: scratch.ends, rewards: rewards, costs: costs)
      if let endedDay { scoreDay(endedDay, patients: block, rewards: rewards, costs: costs) }
      if let nextObservations {
        writeObservationRows(patients: block, nowHours: nextHours, into: nextObservations)
      }
    }
  }

  /// Buffers that pass values between the phases of one block of
  /// `runDecision`, indexed by the patient's offset in the block.
  struct IntervalScratch {
    /// Each dose's infusion: grid steps (0 for no dose), rate in mg/h, and
    /// the grid step of the peak draw (-1 for no dose).
    let infusionSteps: UnsafeMutablePointer<Int>
    let infusionRates: UnsafeMutablePointer<Double>
    let peakSteps: UnsafeMutablePointer<Double>
    /// True peak, trough and end-of-interval concentrations.
    let peaks: UnsafeMutablePointer<Double>
    let troughs: UnsafeMutablePointer<Double>
    let ends: UnsafeMutablePointer<Double>

    init(blockSize: Int) {
      infusionSteps = .allocate(capacity: blockSize)
      infusionRates = .allocate(capacity: 5 * blockSize)
      peakSteps = infusionRates + blockSize
      peaks = peakSteps + blockSize
      troughs = peaks + blockSize
      ends = troughs + blockSize
    }

    func deallocate() {
      infusionSteps.deallocate()
      infusionRates.deallocate()
    }
  }

  /// Turns the block's actions into delivered doses and starts their
  /// infusions.
  private func administerDoses(
    _ actions: UnsafeBufferPointer<Float>, patients: Range<Int>, memo: DoseMemo,
    scratch: IntervalScratch
  ) {
    let gridHours = rules.simulationStepHours
    let levelMilligrams = rules.doseLevelStepMilligrams
    let discrete = actionMode == .discreteLevels
    let first = patients.lowerBound
    let totalDose = state.pointer(.totalDose)
    let counters: [(DoseInterventions, UnsafeMutablePointer<Double>)] = [
      (.rounded, state.pointer(.rounded)),
      (.clampedToSingleMaximum, state.pointer(.clampedToSingleMaximum)),
      (.clampedToDailyMaximum, state.pointer(.clampedToDailyMaximum)),
      (.nonFinite, state.pointer(.nonFinite)), (.negative, state.pointer(.negative)),
    ]
    let history = state.recentDoses.baseAddress!
    let historyLength = state.historyLength
    let windowDoseCount = windowDoseCount
    let count = batchSize
    let doseByDecision = state.doseByDecision.baseAddress! + decisionIndex * count
    let startHours = hoursSinceStart
    let bayesianEstimate = bayesianEstimate
    let activeShield = activeShield
    // A local copy, written back after the loop, so that each patient's
    // delivery does not go through the class property's access checks.
    var actuator = actuator
    defer { self.actuator = actuator }

    for p in patients {
      let action = Double(actions[p])
      let requested = discrete ? action * levelMilligrams : action
      var previous24Hours = 0.0
      for k in 0..<windowDoseCount { previous24Hours += history[k * count + p] }
      var (dose, interventions) = memo.limited(requested, previous24Hours: previous24Hours)
      actuator.record(interventions)
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
      doseByDecision[p] = dose

      let infusion = memo.infusion(dose)
      scratch.infusionSteps[p - first] = infusion.steps
      scratch.infusionRates[p - first] = infusion.rate
      scratch.peakSteps[p - first] = infusion.peakStep
      bayesianEstimate?.estimator.addInfusion(
        patient: p, startHours: startHours, durationHours: Double(infusion.steps) * gridHours,
        doseMilligrams: dose)
    }
  }

  /// Simulates the block's patients through the decision interval
  /// (infusions, draws, end), writes each one's true peak, trough and
  /// end-of-interval concentration into `scratch`, and records the levels
  /// drawn.
  private func simulateInterval(patients: Range<Int>, scratch: IntervalScratch) {
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

    let first = patients.lowerBound
    let rate = scratch.infusionRates
    let infusionSteps = scratch.infusionSteps
    let peakStep = scratch.peakSteps
    // Events per patient at most.
    let eventCapacity = 4
    let peaks = scratch.peaks
    let troughs = scratch.troughs
    let ends = scratch.ends

    // A local reference, so that the per-patient calls below do not
    // retain, release and access-check the class property each time.
    let batch = batch

    // Each patient jumps from event to event (end of infusion, peak draw,
    // trough draw, end of interval) with the batch's stored powers of two
    // of its transition, instead of stepping all 48 grid steps. Building
    // each patient's events just before its jumps measured faster than
    // building those of the whole block first: the processor overlaps that
    // work with the loads of the jump tables.
    let decisionSteps = stepsPerDecision
    withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * eventCapacity) { scratch in
      // Up to four events: their steps and kinds (0 end of infusion, 1 peak,
      // 2 trough, 3 end of interval), then each segment's length.
      let eventSteps = scratch.baseAddress!
      let eventKinds = eventSteps + eventCapacity
      let segmentSteps = eventKinds + eventCapacity
      withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * eventCapacity) { doubles in
        let segmentRates = doubles.baseAddress!
        let concentrations = segmentRates + eventCapacity
        for p in patients {
          let infusionEnd = infusionSteps[p - first]
          var eventCount = 0
          func insert(_ step: Int, _ kind: Int) {
            // Insertion into the sorted list of at most four entries. An
            // event goes after those at the same step, so the end of the
            // interval, inserted last, is the last event.
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
          let peak = peakStep[p - first]
          if peak > 0 && Int(peak) <= decisionSteps { insert(Int(peak), 1) }
          if drawsTrough { insert(troughStep, 2) }
          insert(decisionSteps, 3)

          var position = 0
          for index in 0..<eventCount {
            segmentSteps[index] = eventSteps[index] - position
            segmentRates[index] = position < infusionEnd ? rate[p - first] : 0
            position = eventSteps[index]
          }
          batch.advance(
            patient: p, segmentSteps: segmentSteps, segmentRatesMilligramsPerHour: segmentRates,
            segmentCount: eventCount, centralConcentrations: concentrations)
          for index in 0..<eventCount {
            if eventKinds[index] == 1 { peaks[p - first] = concentrations[index] }
            if eventKinds[index] == 2 { troughs[p - first] = concentrations[index] }
          }
          // A / V1 at the end of the interval, as
          // `PharmacokineticBatch.centralConcentrations(into:)` returns it.
          ends[p - first] = concentrations[eventCount - 1]
        }
      }
    }

    recordLevels(
      patients: patients, peakSteps: peakStep, peakConcentrations: peaks,
      troughConcentrations: drawsTrough ? troughs : nil,
      troughTimeHours: startHours + Double(troughStep) * gridHours)
  }

  /// Measures this interval's peaks (for patients with a peak due before
  /// the next decision) and troughs (all patients, when
  /// `troughConcentrations` is given) with the residual error, and stores
  /// each as the latest level of its kind. The concentrations are indexed
  /// by the patient's offset in `patients`.
  ///
  /// Noise is drawn after the simulation in patient order, the peak slot
  /// before the trough slot, two normal draws per slot (proportional, then
  /// additive). A slot without a level still uses its draws, so the draws
  /// depend neither on the block size nor on the doses.
  private func recordLevels(
    patients: Range<Int>, peakSteps peakStep: UnsafePointer<Double>,
    peakConcentrations: UnsafeMutablePointer<Double>,
    troughConcentrations: UnsafeMutablePointer<Double>?, troughTimeHours: Double
  ) {
    let gridHours = rules.simulationStepHours
    let stepsPerDecision = Double(rules.stepsPerDecision)
    let startHours = hoursSinceStart
    let reportedAsZero = state.pointer(.measurementsReportedAsZero)
    let peaks = LevelColumns(state: state, kind: .peak)
    let troughs = LevelColumns(state: state, kind: .trough)
    let residualError = residualError
    let bayesianEstimate = bayesianEstimate
    let first = patients.lowerBound

    // Every patient has a peak slot (and a trough slot when troughs are
    // drawn) whether or not a level is taken. The noise a patient gets
    // therefore does not depend on the others' doses, and policies compared
    // on one cohort see the same measurement noise.
    let levelCount = patients.count * (troughConcentrations == nil ? 1 : 2)
    withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * levelCount) { normals in
      noiseGenerator.fillStandardNormals(normals)

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
      for p in patients {
        // A peak due after the next decision is not drawn.
        let peak = peakStep[p - first]
        if peak > 0 && peak <= stepsPerDecision {
          measure(
            peakConcentrations[p - first], patient: p,
            timeHours: startHours + peak * gridHours, into: peaks)
        } else {
          nextNormal += 2
        }
        if let troughConcentrations {
          measure(
            troughConcentrations[p - first], patient: p, timeHours: troughTimeHours,
            into: troughs)
        }
      }
    }
  }

  /// Penalises and costs the block's true troughs above the limit (the
  /// concentration just before the next dose, or at the episode end).
  /// `concentrations` is indexed by the patient's offset in `patients`.
  private func scoreTroughs(
    patients: Range<Int>, ends concentrations: UnsafePointer<Double>,
    rewards: UnsafeMutablePointer<Float>, costs: UnsafeMutablePointer<Float>
  ) {
    let limit = definition.reward.troughLimitMilligramsPerLiter
    let penalty = Float(definition.reward.penaltyPerTroughAboveLimit)
    let episodeCostAbove = Float(definition.cost.perEpisodeWithTroughAboveLimit)
    let troughCostAbove = Float(definition.cost.perTroughAboveLimit)
    let maximumTrough = state.pointer(.maximumTrueTrough)
    let troughsAbove = state.pointer(.troughsAboveLimit)
    let firstAbove = state.pointer(.firstTroughAboveLimitHours)
    let episodeReturn = state.pointer(.episodeReturn)
    let episodeCost = state.pointer(.episodeCost)
    let troughHours = hoursSinceStart + rules.decisionIntervalHours
    let troughs = state.troughByDecision.baseAddress! + decisionIndex * batchSize
    let first = patients.lowerBound
    for p in patients {
      let trough = concentrations[p - first]
      troughs[p] = trough
      maximumTrough[p] = max(maximumTrough[p], trough)
      if trough > limit {
        if troughsAbove[p] == 0 {
          firstAbove[p] = troughHours
          costs[p] += episodeCostAbove
        }
        troughsAbove[p] += 1
        rewards[p] -= penalty
        costs[p] += troughCostAbove
      }
      episodeReturn[p] += Double(rewards[p])
      episodeCost[p] += Double(costs[p])
    }
  }

  /// Adds the weighted score of day `day` (0-based) and its cost for the
  /// block's patients.
  private func scoreDay(
    _ day: Int, patients: Range<Int>, rewards: UnsafeMutablePointer<Float>,
    costs: UnsafeMutablePointer<Float>
  ) {
    let reward = definition.reward
    let cost = definition.cost
    let batch = batch
    let aucAtDayStart = state.pointer(.aucAtDayStart)
    let episodeReturn = state.pointer(.episodeReturn)
    let episodeCost = state.pointer(.episodeCost)
    let dayAUCColumn = state.dayAUC.baseAddress! + day * batchSize
    let weight = reward.dayWeights[day]
    let isLastDay = day == reward.dayWeights.count - 1
    for p in patients {
      let auc = batch.centralAUC(patient: p)
      let dayAUC = auc - aucAtDayStart[p]
      aucAtDayStart[p] = auc
      dayAUCColumn[p] = dayAUC
      let score: Double
      if dayAUC < reward.dailyAUCLowerMilligramHoursPerLiter {
        let distance = reward.dailyAUCLowerMilligramHoursPerLiter - dayAUC
        score = -min(
          reward.maximumDailyPenalty, reward.penaltyPerMilligramHourPerLiterBelow * distance)
      } else if dayAUC > reward.dailyAUCUpperMilligramHoursPerLiter {
        let distance = dayAUC - reward.dailyAUCUpperMilligramHoursPerLiter
        score = -min(
          reward.maximumDailyPenalty, reward.penaltyPerMilligramHourPerLiterAbove * distance)
        costs[p] += Float(cost.perDayAboveAUCUpper)
        episodeCost[p] += cost.perDayAboveAUCUpper
      } else {
        score = reward.inTargetReward
      }
      if isLastDay, dayAUC < cost.untreatedDailyAUCMilligramHoursPerLiter {
        costs[p] += Float(cost.perEpisodeUntreated)
        episodeCost[p] += cost.perEpisodeUntreated
      }
      rewards[p] += Float(weight * score)
      episodeReturn[p] += weight * score
    }
  }

  /// Returns the current observation rows (see `VancomycinObservation`).
  func observations() -> [Float] {
    let total = batchSize * observationSize
    return [Float](unsafeUninitializedCapacity: total) { buffer, initializedCount in
      writeObservations(into: buffer)
      initializedCount = total
    }
  }

  /// Writes the current observation rows into `rows`, in place when it
  /// already holds `batchSize * observationSize` entries (no allocation
  /// when no other reference shares its storage), else into a new array.
  func observations(into rows: inout [Float]) {
    guard rows.count == batchSize * observationSize else {
      rows = observations()
      return
    }
    rows.withUnsafeMutableBufferPointer { writeObservations(into: $0) }
  }

  /// Writes the observation rows into `buffer` (`batchSize *
  /// observationSize` entries, initialised or not).
  private func writeObservations(into buffer: UnsafeMutableBufferPointer<Float>) {
    precondition(
      buffer.count == batchSize * observationSize,
      "expected \(batchSize * observationSize) entries, got \(buffer.count)")
    let now = hoursSinceStart
    writeObservationRows(patients: 0..<batchSize, nowHours: now, into: buffer.baseAddress!)
    // Entries 21 to 27 of every row, when the definition has them.
    bayesianEstimate?.writeFeatures(
      into: buffer, width: observationSize, nowHours: now,
      intervalHours: rules.decisionIntervalHours)
  }

  /// Writes entries 0 to 20 and the last entry of the rows of `patients`
  /// at the time `now` (hours since the episode start) into `rows`, the
  /// first of `batchSize` rows of `observationSize` entries.
  ///
  /// Rows are written one patient at a time, every entry of each: one pass
  /// over the output instead of a zero fill and a strided pass per entry.
  private func writeObservationRows(
    patients: Range<Int>, nowHours now: Double, into rows: UnsafeMutablePointer<Float>
  ) {
    typealias Covariate = PatientStateColumns.Covariate
    typealias Level = PatientStateColumns.Level
    let count = batchSize
    let width = observationSize
    let covariates = UnsafePointer(state.covariateRows.baseAddress!)
    let levels = UnsafePointer(state.levels.baseAddress!)
    let intensiveCareEntry = width - 1
    let history = UnsafePointer(state.recentDoses.baseAddress!)
    // Every entry below is written, so none of the storage stays unset.
    precondition(
      width
        == (bayesianEstimate == nil
          ? VancomycinObservation.count : VancomycinObservation.countWithBayesianEstimate),
      "observation width \(width) does not match the entries written")
    // The four levels of a record, each as value, availability and time,
    // give entries 9 to 20 in order.
    precondition(
      VancomycinObservation.troughMilligramsPerLiter == 9
        && VancomycinObservation.peakMilligramsPerLiter == 9 + Level.peak
        && VancomycinObservation.previousTroughMilligramsPerLiter
          == 9 + Level.previous + Level.trough
        && VancomycinObservation.previousPeakMilligramsPerLiter == 9 + Level.previous + Level.peak
        && VancomycinObservation.hoursSincePreviousPeak == 20,
      "observation layout differs from the level records")

    for p in patients {
      let row = rows + p * width
      let covariate = covariates + p * Covariate.rowSize
      row[VancomycinObservation.ageYears] = covariate[Covariate.ageYears]
      row[VancomycinObservation.weightKilograms] = covariate[Covariate.weightKilograms]
      row[VancomycinObservation.female] = covariate[Covariate.female]
      row[VancomycinObservation.serumCreatinineMilligramsPerDeciliter] =
        covariate[Covariate.serumCreatinine]
      row[VancomycinObservation.creatinineClearanceMillilitersPerMinute] =
        covariate[Covariate.creatinineClearance]
      row[VancomycinObservation.haemodialysis] = covariate[Covariate.haemodialysis]
      row[intensiveCareEntry] = covariate[Covariate.intensiveCare]
      row[VancomycinObservation.hoursSinceStart] = Float(now)
      row[VancomycinObservation.previousDoseMilligrams] = Float(history[p])
      row[VancomycinObservation.secondPreviousDoseMilligrams] = Float(history[count + p])

      // Per level: the value, whether it is available, and the hours since
      // it was drawn (0 before the first).
      let record = levels + p * Level.recordSize
      for level in stride(from: 0, to: Level.recordSize, by: 3) {
        let available = record[level + Level.available]
        row[9 + level + Level.value] = Float(record[level + Level.value])
        row[9 + level + Level.available] = Float(available)
        row[9 + level + Level.timeHours] =
          available > 0 ? Float(now - record[level + Level.timeHours]) : 0
      }
    }
  }
}

/// Results of the actuator's limits and of a dose's infusion, remembered
/// for one decision. Both depend only on their arguments and on constants
/// of the environment, and most patients get one of a few doses, so most
/// lookups skip the divisions and roundings. Each table is direct-mapped:
/// a slot stores the last arguments that hashed to it (compared bit for
/// bit) with their result. Every slot starts with the result for zero
/// arguments, so no slot is ever unset.
struct DoseMemo {
  private struct LimitedSlot {
    var request: UInt64
    var previous24Hours: UInt64
    var dose: Double
    var interventions: DoseInterventions
  }

  /// A dose's infusion, as `VancomycinEnvironment` stores it.
  struct Infusion {
    /// Grid steps of the infusion, 0 for no dose.
    var steps: Int
    /// Rate in mg/h, 0 for no dose.
    var rate: Double
    /// Grid step of the peak draw, -1 for no dose.
    var peakStep: Double
  }

  private struct InfusionSlot {
    var dose: UInt64
    var infusion: Infusion
  }

  private static let limitedMask = 4095
  private static let infusionMask = 255
  private let actuator: DoseActuator
  private let rules: DosingRules
  private let peakOffsetSteps: Double
  private let limitedSlots: UnsafeMutablePointer<LimitedSlot>
  private let infusionSlots: UnsafeMutablePointer<InfusionSlot>

  /// Allocates both tables; call `deallocate()` when done.
  init(actuator: DoseActuator, rules: DosingRules, peakHoursAfterInfusionEnd: Double) {
    self.actuator = actuator
    self.rules = rules
    peakOffsetSteps = (peakHoursAfterInfusionEnd / rules.simulationStepHours).rounded()
    limitedSlots = .allocate(capacity: Self.limitedMask + 1)
    infusionSlots = .allocate(capacity: Self.infusionMask + 1)
    let zero = actuator.limited(0, milligramsInPrevious24Hours: 0)
    limitedSlots.initialize(
      repeating: LimitedSlot(
        request: 0, previous24Hours: 0, dose: zero.doseMilligrams,
        interventions: zero.interventions),
      count: Self.limitedMask + 1)
    infusionSlots.initialize(
      repeating: InfusionSlot(dose: 0, infusion: computeInfusion(0)),
      count: Self.infusionMask + 1)
  }

  func deallocate() {
    limitedSlots.deallocate()
    infusionSlots.deallocate()
  }

  /// `DoseActuator.limited(_:milligramsInPrevious24Hours:)` of the actuator
  /// given at init.
  @inline(__always)
  func limited(_ request: Double, previous24Hours: Double) -> (
    doseMilligrams: Double, interventions: DoseInterventions
  ) {
    let requestBits = request.bitPattern
    let previousBits = previous24Hours.bitPattern
    let mixed = Self.mix(requestBits ^ (previousBits &* 0x9E37_79B9_7F4A_7C15))
    let slot = limitedSlots + (Int(truncatingIfNeeded: mixed) & Self.limitedMask)
    if slot.pointee.request == requestBits && slot.pointee.previous24Hours == previousBits {
      return (slot.pointee.dose, slot.pointee.interventions)
    }
    let result = actuator.limited(request, milligramsInPrevious24Hours: previous24Hours)
    slot.pointee = LimitedSlot(
      request: requestBits, previous24Hours: previousBits, dose: result.doseMilligrams,
      interventions: result.interventions)
    return result
  }

  /// Returns the infusion of `dose` mg, from the table when it is there.
  @inline(__always)
  func infusion(_ dose: Double) -> Infusion {
    let bits = dose.bitPattern
    let slot = infusionSlots + (Int(truncatingIfNeeded: Self.mix(bits)) & Self.infusionMask)
    if slot.pointee.dose == bits { return slot.pointee.infusion }
    let infusion = computeInfusion(dose)
    slot.pointee = InfusionSlot(dose: bits, infusion: infusion)
    return infusion
  }

  /// Spreads every bit of `key` over the low bits, which pick the slot:
  /// the bit patterns of round doses differ only in their high bits.
  @inline(__always)
  private static func mix(_ key: UInt64) -> UInt64 {
    var mixed = key ^ (key >> 33)
    mixed &*= 0xFF51_AFD7_ED55_8CCD
    mixed ^= mixed >> 33
    mixed &*= 0xC4CE_B9FE_1A85_EC53
    return mixed ^ (mixed >> 33)
  }

  private func computeInfusion(_ dose: Double) -> Infusion {
    let steps = rules.infusionSteps(doseMilligrams: dose)
    precondition(steps < rules.stepsPerDecision, "an infusion must end before the next decision")
    return Infusion(
      steps: steps, rate: steps > 0 ? dose / (Double(steps) * rules.simulationStepHours) : 0,
      peakStep: steps > 0 ? Double(steps) + peakOffsetSteps : -1)
  }
}

/// The kinds of drug level drawn in an interval.
enum Draw { case trough, peak }

/// The latest and the previous level of one kind in the patients' records
/// of `PatientStateColumns.levels`.
private struct LevelColumns {
  let records: UnsafeMutablePointer<Double>
  /// Offset of the kind's latest level in a record.
  let latest: Int

  init(state: PatientStateColumns, kind: Draw) {
    records = state.levels.baseAddress!
    switch kind {
    case .trough: latest = PatientStateColumns.Level.trough
    case .peak: latest = PatientStateColumns.Level.peak
    }
  }

  /// Makes the latest level of patient `p` the previous one and stores a
  /// new latest level.
  @inline(__always)
  func store(patient p: Int, valueMilligramsPerLiter: Double, timeHours time: Double) {
    typealias Level = PatientStateColumns.Level
    let level = records + p * Level.recordSize + latest
    let previous = level + Level.previous
    previous[Level.value] = level[Level.value]
    previous[Level.available] = level[Level.available]
    previous[Level.timeHours] = level[Level.timeHours]
    level[Level.value] = valueMilligramsPerLiter
    level[Level.available] = 1
    level[Level.timeHours] = time
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
