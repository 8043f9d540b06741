import Foundation

/// Per-patient values of the current episode (`slot * patientCount + p`
/// for the rings).
struct GlucoseEpisodeRecords {
  /// CGM samples kept: the current one and the last hour at 3 min.
  static let cgmSlots = 21
  /// Steps kept for the recent carbohydrate and insulin totals.
  static let recentSlots = 60

  let patientCount: Int
  /// CGM samples taken, the first at the episode start.
  var cgmCount = 0
  var cgm: [Double]
  /// Carbohydrate eaten and insulin delivered per step, g and U.
  var carbohydrateGrams: [Double]
  var insulinUnits: [Double]
  var glycemic: [GlycemicAccumulator]
  var cgmInRange: [Double]
  var minimumGlucose: [Double]
  var maximumGlucose: [Double]
  var totalInsulinUnits: [Double]
  var totalBolusUnits: [Double]
  var totalCarbohydrateGrams: [Double]
  var episodeReturn: [Double]
  var episodeCost: [Double]
  /// Actuator interventions, counts.
  var nonFinite: [Double]
  var negative: [Double]
  var clampedToMaximumMultiplier: [Double]
  var basalAbovePumpMaximum: [Double]
  var bolusAbovePumpMaximum: [Double]

  init(patientCount: Int) {
    self.patientCount = patientCount
    let zeros = [Double](repeating: 0, count: patientCount)
    cgm = [Double](repeating: 0, count: Self.cgmSlots * patientCount)
    carbohydrateGrams = [Double](repeating: 0, count: Self.recentSlots * patientCount)
    insulinUnits = carbohydrateGrams
    glycemic = [GlycemicAccumulator](repeating: GlycemicAccumulator(), count: patientCount)
    cgmInRange = zeros
    minimumGlucose = [Double](repeating: .infinity, count: patientCount)
    maximumGlucose = [Double](repeating: -.infinity, count: patientCount)
    totalInsulinUnits = zeros
    totalBolusUnits = zeros
    totalCarbohydrateGrams = zeros
    episodeReturn = zeros
    episodeCost = zeros
    nonFinite = zeros
    negative = zeros
    clampedToMaximumMultiplier = zeros
    basalAbovePumpMaximum = zeros
    bolusAbovePumpMaximum = zeros
  }

  mutating func clear() { self = GlucoseEpisodeRecords(patientCount: patientCount) }

  /// Stores the first CGM sample of patient `p` in every ring slot, so the
  /// history before the start reads as the start value.
  mutating func startCGM(_ reading: Double, patient p: Int) {
    for slot in 0..<Self.cgmSlots { cgm[slot * patientCount + p] = reading }
    cgmCount = 1
  }

  /// Returns the CGM sample of patient `p` taken `stepsAgo` steps ago
  /// (the first sample when the episode is younger).
  func cgm(patient p: Int, stepsAgo: Int) -> Double {
    let index = max(cgmCount - 1 - stepsAgo, 0) % Self.cgmSlots
    return cgm[index * patientCount + p]
  }

  /// Scores the step that ended at decision `decision` from the true
  /// glucose in `buffers`, takes the CGM sample and adds the step to every
  /// per-patient total.
  mutating func recordStep(
    decision: Int, sampleMinutes: Int, reward: GlucoseRewardDefinition, noise: CGMNoise,
    buffers: GlucoseStepBuffers, rewards: inout [Float], costs: inout [Float]
  ) {
    let n = patientCount
    let endMinute = decision * sampleMinutes
    let ringSlot = (decision - 1) % Self.recentSlots
    let cgmSlot = cgmCount % Self.cgmSlots
    let lower = reward.targetLowerMilligramsPerDeciliter
    let upper = reward.targetUpperMilligramsPerDeciliter
    for p in 0..<n {
      let bg = buffers.bloodGlucose[p]
      // One evaluation of the Kovatchev function serves the reward and the
      // risk indices; `GlycemicRisk.risk` computes the same expression.
      let symmetrized = GlycemicRisk.symmetrized(milligramsPerDeciliter: bg)
      let risk = 10 * symmetrized * symmetrized
      let value = reward.stepReward(bloodGlucose: bg, symmetrized: symmetrized)
      let cost = reward.stepCost(bloodGlucose: bg)
      rewards[p] = Float(value)
      costs[p] = Float(cost)
      let reading = noise.reading(glucose: bg, patient: p, minute: endMinute)
      cgm[cgmSlot * n + p] = reading
      if reading >= lower && reading <= upper { cgmInRange[p] += 1 }
      let bolus = buffers.bolusUnits[p]
      let delivered = buffers.basalUnitsPerMinute[p] * Double(sampleMinutes) + bolus
      let eaten = buffers.eatenGrams[p]
      carbohydrateGrams[ringSlot * n + p] = eaten
      insulinUnits[ringSlot * n + p] = delivered
      glycemic[p].add(milligramsPerDeciliter: bg, symmetrizedRisk: symmetrized, risk: risk)
      minimumGlucose[p] = min(minimumGlucose[p], bg)
      maximumGlucose[p] = max(maximumGlucose[p], bg)
      totalInsulinUnits[p] += delivered
      totalBolusUnits[p] += bolus
      totalCarbohydrateGrams[p] += eaten
      episodeReturn[p] += value
      episodeCost[p] += cost
    }
    cgmCount += 1
  }

  /// Writes each patient's sum over the last `recentSlots` steps of a
  /// per-step ring to `totals`. Slots are added in slot order, with the
  /// patients in the inner loop so that the ring is read contiguously.
  func recentTotals(_ ring: [Double], into totals: UnsafeMutableBufferPointer<Double>) {
    let n = patientCount
    for p in 0..<n { totals[p] = 0 }
    ring.withUnsafeBufferPointer { values in
      for slot in 0..<Self.recentSlots {
        let row = values.baseAddress! + slot * n
        for p in 0..<n { totals[p] += row[p] }
      }
    }
  }
}

/// Per-patient columns of one step, allocated once per batch so that a
/// step allocates only the reward and cost arrays it returns and the
/// observation rows. Pointer access also avoids the exclusivity checks of
/// array properties of a class in the per-patient loops.
final class GlucoseStepBuffers {
  let patientCount: Int
  /// The basal-bolus baseline's insulin for the coming step, U/min and U.
  let baselineBasalUnitsPerMinute: UnsafeMutableBufferPointer<Double>
  let baselineBolusUnits: UnsafeMutableBufferPointer<Double>
  /// The insulin the pump delivers in the step, U/min and U.
  let basalUnitsPerMinute: UnsafeMutableBufferPointer<Double>
  let bolusUnits: UnsafeMutableBufferPointer<Double>
  /// Inputs and outputs of one simulated minute.
  let announcedGrams: UnsafeMutableBufferPointer<Double>
  let insulinUnitsPerMinute: UnsafeMutableBufferPointer<Double>
  let minuteEatenGrams: UnsafeMutableBufferPointer<Double>
  /// Carbohydrate eaten over the step, g.
  let eatenGrams: UnsafeMutableBufferPointer<Double>
  /// True blood glucose at the step's end, mg/dL.
  let bloodGlucose: UnsafeMutableBufferPointer<Double>
  /// Carbohydrate eaten and insulin delivered over the recent steps, g
  /// and U (`GlucoseEpisodeRecords.recentTotals`).
  let recentCarbohydrateGrams: UnsafeMutableBufferPointer<Double>
  let recentInsulinUnits: UnsafeMutableBufferPointer<Double>

  init(patientCount: Int) {
    self.patientCount = patientCount
    func zeros() -> UnsafeMutableBufferPointer<Double> {
      let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: patientCount)
      buffer.initialize(repeating: 0)
      return buffer
    }
    baselineBasalUnitsPerMinute = zeros()
    baselineBolusUnits = zeros()
    basalUnitsPerMinute = zeros()
    bolusUnits = zeros()
    announcedGrams = zeros()
    insulinUnitsPerMinute = zeros()
    minuteEatenGrams = zeros()
    eatenGrams = zeros()
    bloodGlucose = zeros()
    recentCarbohydrateGrams = zeros()
    recentInsulinUnits = zeros()
  }

  deinit {
    for buffer in [
      baselineBasalUnitsPerMinute, baselineBolusUnits, basalUnitsPerMinute, bolusUnits,
      announcedGrams, insulinUnitsPerMinute, minuteEatenGrams, eatenGrams, bloodGlucose,
      recentCarbohydrateGrams, recentInsulinUnits,
    ] {
      buffer.deallocate()
    }
  }
}

// The step: actuator, pump, minute-by-minute simulation, CGM, reward.
extension GlucoseEnvironment {
  public func step(actions: [Float]) -> EnvironmentStep {
    precondition(
      actions.count == batchSize, "expected \(batchSize) actions, got \(actions.count)")
    precondition(
      decision < decisionsPerEpisode,
      "the episodes ended and automatic reset is off; call reset(seed:) first")
    let n = batchSize
    let startMinute = decision * sampleMinutes
    let buffers = self.buffers
    computeBaselineInsulin()
    for p in 0..<n {
      let multiplier = deliverableMultiplier(action: actions[p], patient: p)
      buffers.basalUnitsPerMinute[p] = pumpBasal(
        multiplier * buffers.baselineBasalUnitsPerMinute[p], patient: p)
      buffers.bolusUnits[p] = pumpBolus(multiplier * buffers.baselineBolusUnits[p], patient: p)
      buffers.eatenGrams[p] = 0
    }

    // Simulate the step minute by minute with the announced meals.
    let meals = self.meals
    var nextMeal = takeNextMeal()
    for offset in 0..<sampleMinutes {
      let minute = startMinute + offset
      for p in 0..<n {
        var announced = 0.0
        while nextMeal[p] < meals[p].count, meals[p][nextMeal[p]].minute <= minute {
          announced += meals[p][nextMeal[p]].grams
          nextMeal[p] += 1
        }
        buffers.announcedGrams[p] = announced
        buffers.insulinUnitsPerMinute[p] =
          buffers.basalUnitsPerMinute[p] + buffers.bolusUnits[p] / Double(sampleMinutes)
      }
      patients.advanceMinute(
        announcedGrams: buffers.announcedGrams.baseAddress!,
        insulinUnitsPerMinute: buffers.insulinUnitsPerMinute.baseAddress!,
        eatenGrams: buffers.minuteEatenGrams.baseAddress!)
      for p in 0..<n { buffers.eatenGrams[p] += buffers.minuteEatenGrams[p] }
    }
    self.nextMeal = nextMeal
    decision += 1

    // Measure, score and record.
    patients.bloodGlucose(into: buffers.bloodGlucose.baseAddress!)
    var rewards = [Float](repeating: 0, count: n)
    var costs = [Float](repeating: 0, count: n)
    records.recordStep(
      decision: decision, sampleMinutes: sampleMinutes, reward: definition.reward, noise: noise,
      buffers: buffers, rewards: &rewards, costs: &costs)

    return .fixedLengthEpisodes(
      batchSize: n, rewards: rewards, costs: costs,
      episodeEnded: decision == decisionsPerEpisode, automaticallyResets: automaticallyResets,
      observe: observations, recordEnded: recordEndedEpisodes, restart: startEpisodes)
  }

  /// Moves `nextMeal` out of the environment, so the step mutates a
  /// uniquely referenced array and stores it back once.
  private func takeNextMeal() -> [Int] {
    var taken: [Int] = []
    swap(&taken, &nextMeal)
    return taken
  }

  /// Returns the grams of the meals announced to start within the coming
  /// step of patient `p`.
  func announcedGramsInNextStep(patient p: Int) -> Double {
    let startMinute = decision * sampleMinutes
    var grams = 0.0
    var index = nextMeal[p]
    while index < meals[p].count, meals[p][index].minute < startMinute + sampleMinutes {
      grams += meals[p][index].grams
      index += 1
    }
    return grams
  }

  /// Converts an action to a deliverable multiplier, counting each
  /// intervention: non-finite and negative requests give 0, requests
  /// above the maximum the maximum.
  func deliverableMultiplier(action: Float, patient p: Int) -> Double {
    let requested = Double(action)
    guard requested.isFinite else {
      records.nonFinite[p] += 1
      return 0
    }
    if requested < 0 {
      records.negative[p] += 1
      return 0
    }
    let maximum = definition.episode.maximumInsulinMultiplier
    if requested > maximum {
      records.clampedToMaximumMultiplier[p] += 1
      return maximum
    }
    return requested
  }

  /// Returns the basal rate the pump delivers for a requested rate, both
  /// in U/min: rounded to the increment (given in U/h) and capped at the
  /// pump's maximum (U/h).
  func pumpBasal(_ unitsPerMinute: Double, patient p: Int) -> Double {
    let pump = definition.pump
    var unitsPerHour = unitsPerMinute * 60
    if pump.basalIncrementUnitsPerHour > 0 {
      unitsPerHour =
        (unitsPerHour / pump.basalIncrementUnitsPerHour).rounded()
        * pump.basalIncrementUnitsPerHour
    }
    if unitsPerHour > pump.maximumBasalUnitsPerHour {
      records.basalAbovePumpMaximum[p] += 1
      unitsPerHour = pump.maximumBasalUnitsPerHour
    }
    return unitsPerHour / 60
  }

  /// Returns the bolus the pump delivers for a requested bolus, U: rounded
  /// to the increment and capped at the pump's maximum.
  func pumpBolus(_ units: Double, patient p: Int) -> Double {
    let pump = definition.pump
    var delivered = units
    if pump.bolusIncrementUnits > 0 {
      delivered = (delivered / pump.bolusIncrementUnits).rounded() * pump.bolusIncrementUnits
    }
    if delivered > pump.maximumBolusUnits {
      records.bolusAbovePumpMaximum[p] += 1
      delivered = pump.maximumBolusUnits
    }
    return delivered
  }
}
