import Foundation
import TitratePKPD

/// Per-patient values of the current episode.
struct PropofolEpisodeRecords {
  let patientCount: Int
  /// Infused propofol since the episode start (bolus excluded), mg/kg.
  var infusedMilligramsPerKilogram: [Double]
  var episodeReturn: [Double]
  var episodeCost: [Double]
  /// Grid points after the performance start, and those with true BIS in
  /// the band, below it, below the burst-suppression threshold and above
  /// the band.
  var gridPointsScored: [Double]
  var gridPointsInRange: [Double]
  var gridPointsBelowRange: [Double]
  var gridPointsBelowBurstSuppression: [Double]
  var gridPointsAboveRange: [Double]
  /// Grid points of the whole episode (induction included) with true BIS
  /// below the band and below the burst-suppression threshold.
  var episodeGridPointsBelowRange: [Double]
  var episodeGridPointsBelowBurstSuppression: [Double]
  var minimumTrueBIS: [Double]
  /// First time the true BIS reached the band's upper end, min (nil before).
  var inductionMinutes: [Double?]
  /// Reported and true BIS at each decision after the performance start,
  /// per patient, for Varvel's measures.
  var scoredMeasuredBIS: [[Double]]
  var scoredTrueBIS: [[Double]]
  /// Actuator interventions, counts.
  var clampedToMaximum: [Double]
  var negative: [Double]
  var nonFinite: [Double]

  init(patientCount: Int) {
    self.patientCount = patientCount
    let zeros = [Double](repeating: 0, count: patientCount)
    infusedMilligramsPerKilogram = zeros
    episodeReturn = zeros
    episodeCost = zeros
    gridPointsScored = zeros
    gridPointsInRange = zeros
    gridPointsBelowRange = zeros
    gridPointsBelowBurstSuppression = zeros
    gridPointsAboveRange = zeros
    episodeGridPointsBelowRange = zeros
    episodeGridPointsBelowBurstSuppression = zeros
    minimumTrueBIS = [Double](repeating: .infinity, count: patientCount)
    inductionMinutes = [Double?](repeating: nil, count: patientCount)
    scoredMeasuredBIS = [[Double]](repeating: [], count: patientCount)
    scoredTrueBIS = [[Double]](repeating: [], count: patientCount)
    clampedToMaximum = zeros
    negative = zeros
    nonFinite = zeros
  }

  mutating func clear() { self = PropofolEpisodeRecords(patientCount: patientCount) }

  /// Bolus plus infused propofol, mg/kg.
  func cumulativeDoseMilligramsPerKilogram(patient p: Int, bolus: Double) -> Double {
    bolus + infusedMilligramsPerKilogram[p]
  }
}

// One decision: actuator, exact PK stepping, reward and cost, and the
// delayed, noisy BIS report.
extension PropofolEnvironment {
  /// Converts an action to a deliverable rate, ug/kg/min, and counts each
  /// intervention: non-finite and negative requests give 0, requests above
  /// the maximum the maximum.
  func deliverableRate(action: Float, patient p: Int) -> Double {
    let maximum = definition.dosing.maximumRateMicrogramsPerKilogramPerMinute
    guard action.isFinite else {
      records.nonFinite[p] += 1
      return 0
    }
    if action < 0 {
      records.negative[p] += 1
      return 0
    }
    if Double(action) > maximum {
      records.clampedToMaximum[p] += 1
      return maximum
    }
    return Double(action)
  }

  /// Steps the PK over one decision interval and scores every grid point.
  func simulateDecision(
    ratesMicrogramsPerKilogramPerMinute rates: [Double], rewards: inout [Float],
    costs: inout [Float]
  ) {
    let dosing = definition.dosing
    let reward = definition.reward
    let steps = dosing.stepsPerDecision
    // ug/kg/min x kg / 1000 = mg/min; x 60 = mg/h.
    let ratesMilligramsPerHour = (0..<batchSize).map {
      rates[$0] * patients[$0].weightKilograms * 0.06
    }
    let performanceStartSeconds = reward.performanceStartMinutes * 60
    var inRange = [Double](repeating: 0, count: batchSize)
    var belowRange = [Double](repeating: 0, count: batchSize)
    var belowBurst = [Double](repeating: 0, count: batchSize)
    var absoluteErrorSum = [Double](repeating: 0, count: batchSize)

    // Exact PK step, then every patient's true BIS on the grid point.
    for step in 1...steps {
      batch.advance(infusionRatesMilligramsPerHour: ratesMilligramsPerHour)
      let seconds = (Double(decision * steps + step)) * dosing.simulationStepSeconds
      let scored = seconds > performanceStartSeconds + 1e-9
      let effect = batch.stateValues(of: .effectSite)
      for p in 0..<batchSize {
        let bis = patients[p].bis.bis(effectSiteMilligramsPerLiter: effect[p])
        let isInRange = bis >= reward.targetLowerBIS && bis <= reward.targetUpperBIS
        let isBelow = bis < reward.targetLowerBIS
        let isBelowBurst = bis < reward.burstSuppressionBIS
        if isInRange { inRange[p] += 1 }
        if isBelow { belowRange[p] += 1 }
        if isBelowBurst { belowBurst[p] += 1 }
        absoluteErrorSum[p] += abs(bis - reward.targetBIS) / reward.targetBIS
        records.minimumTrueBIS[p] = min(records.minimumTrueBIS[p], bis)
        if records.inductionMinutes[p] == nil, bis <= reward.targetUpperBIS {
          records.inductionMinutes[p] = seconds / 60
        }
        guard scored else { continue }
        records.gridPointsScored[p] += 1
        if isInRange { records.gridPointsInRange[p] += 1 }
        if isBelow { records.gridPointsBelowRange[p] += 1 }
        if isBelowBurst { records.gridPointsBelowBurstSuppression[p] += 1 }
        if bis > reward.targetUpperBIS { records.gridPointsAboveRange[p] += 1 }
      }
    }

    // Dose bookkeeping, reward and cost of the whole decision.
    let intervalMinutes = dosing.decisionIntervalSeconds / 60
    let stepCount = Double(steps)
    for p in 0..<batchSize {
      records.episodeGridPointsBelowRange[p] += belowRange[p]
      records.episodeGridPointsBelowBurstSuppression[p] += belowBurst[p]
      records.infusedMilligramsPerKilogram[p] += rates[p] * intervalMinutes / 1000
      let inFraction = inRange[p] / stepCount
      let value =
        reward.inRangeReward * inFraction - reward.outOfRangePenalty * (1 - inFraction)
        - reward.burstSuppressionPenalty * belowBurst[p] / stepCount
        - reward.effectiveAbsoluteErrorPenalty * absoluteErrorSum[p] / stepCount
      let cost = belowRange[p] / stepCount
      rewards[p] = Float(value)
      costs[p] = Float(cost)
      records.episodeReturn[p] += value
      records.episodeCost[p] += cost
    }
  }

  /// Appends the true BIS now to the history and reports the delayed,
  /// noisy value. One normal draw per patient and decision, whatever the
  /// doses, so one patient's doses never shift another's noise.
  func reportBIS() {
    let now = trueBIS
    trueBISHistory.removeFirst(batchSize)
    trueBISHistory += now
    let sd = definition.measurement.noiseStandardDeviation
    previousMeasuredBIS = measuredBIS
    let scored =
      Double(decision) * definition.dosing.decisionIntervalSeconds
      > definition.reward.performanceStartMinutes * 60 + 1e-9
    for p in 0..<batchSize {
      let noise = noiseGenerator.nextStandardNormal()
      let delayed = trueBISHistory[p]
      measuredBIS[p] = min(max(delayed + sd * noise, 0), 100).rounded()
      if scored {
        records.scoredMeasuredBIS[p].append(measuredBIS[p])
        records.scoredTrueBIS[p].append(now[p])
      }
    }
  }
}
