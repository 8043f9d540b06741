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

  /// Returns the sum over the last `recentSlots` steps of a per-step ring.
  func recentTotal(_ ring: [Double], patient p: Int) -> Double {
    var total = 0.0
    for slot in 0..<Self.recentSlots { total += ring[slot * patientCount + p] }
    return total
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
    let baselineUnits = baselineInsulin()
    var basalUnitsPerMinute = [Double](repeating: 0, count: n)
    var bolusUnits = [Double](repeating: 0, count: n)
    for p in 0..<n {
      let multiplier = deliverableMultiplier(action: actions[p], patient: p)
      basalUnitsPerMinute[p] = pumpBasal(multiplier * baselineUnits.basal[p], patient: p)
      bolusUnits[p] = pumpBolus(multiplier * baselineUnits.bolus[p], patient: p)
    }

    // Simulate the step minute by minute with the announced meals.
    var eatenGrams = [Double](repeating: 0, count: n)
    var announced = [Double](repeating: 0, count: n)
    var insulin = [Double](repeating: 0, count: n)
    for offset in 0..<sampleMinutes {
      let minute = startMinute + offset
      for p in 0..<n {
        announced[p] = 0
        while nextMeal[p] < meals[p].count, meals[p][nextMeal[p]].minute <= minute {
          announced[p] += meals[p][nextMeal[p]].grams
          nextMeal[p] += 1
        }
        insulin[p] = basalUnitsPerMinute[p] + bolusUnits[p] / Double(sampleMinutes)
      }
      let eaten = patients.advanceMinute(announcedGrams: announced, insulinUnitsPerMinute: insulin)
      for p in 0..<n { eatenGrams[p] += eaten[p] }
    }
    decision += 1

    // Measure, score and record.
    let endMinute = decision * sampleMinutes
    let glucose = patients.bloodGlucose
    let reward = definition.reward
    var rewards = [Float](repeating: 0, count: n)
    var costs = [Float](repeating: 0, count: n)
    let ringSlot = (decision - 1) % GlucoseEpisodeRecords.recentSlots
    let cgmSlot = records.cgmCount % GlucoseEpisodeRecords.cgmSlots
    for p in 0..<n {
      let bg = glucose[p]
      let inRange =
        bg >= reward.targetLowerMilligramsPerDeciliter
        && bg <= reward.targetUpperMilligramsPerDeciliter
      let below = bg < reward.targetLowerMilligramsPerDeciliter
      let value =
        (inRange ? reward.inRangeRewardPerStep : 0)
        - reward.riskPenaltyPerStep * GlycemicRisk.risk(milligramsPerDeciliter: bg)
        - (below ? reward.belowRangePenaltyPerStep : 0)
      rewards[p] = Float(value)
      costs[p] = below ? 1 : 0
      let reading = noise.reading(glucose: bg, patient: p, minute: endMinute)
      records.cgm[cgmSlot * n + p] = reading
      if reading >= reward.targetLowerMilligramsPerDeciliter
        && reading <= reward.targetUpperMilligramsPerDeciliter
      {
        records.cgmInRange[p] += 1
      }
      let delivered = basalUnitsPerMinute[p] * Double(sampleMinutes) + bolusUnits[p]
      records.carbohydrateGrams[ringSlot * n + p] = eatenGrams[p]
      records.insulinUnits[ringSlot * n + p] = delivered
      records.glycemic[p].add(milligramsPerDeciliter: bg)
      records.minimumGlucose[p] = min(records.minimumGlucose[p], bg)
      records.maximumGlucose[p] = max(records.maximumGlucose[p], bg)
      records.totalInsulinUnits[p] += delivered
      records.totalBolusUnits[p] += bolusUnits[p]
      records.totalCarbohydrateGrams[p] += eatenGrams[p]
      records.episodeReturn[p] += value
      records.episodeCost[p] += below ? 1 : 0
    }
    records.cgmCount += 1

    return .fixedLengthEpisodes(
      batchSize: n, rewards: rewards, costs: costs,
      episodeEnded: decision == decisionsPerEpisode, automaticallyResets: automaticallyResets,
      observe: observations, recordEnded: recordEndedEpisodes, restart: startEpisodes)
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
