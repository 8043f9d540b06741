import TitratePKPD

// The predictive shield. Before a dose is given, the MAP estimate of the
// patient's parameters (the prior conditioned on every level measured so
// far) predicts the exposure the dose would cause. A dose that crosses a
// threshold is lowered level by level until it does not.
extension VancomycinEnvironment {
  /// Returns the dose to give in place of `dose` (mg) for patient `p`: the
  /// dose itself when its predictions stay within the shield's thresholds,
  /// otherwise the largest lower multiple of the dose increment that does,
  /// or 0. Records a reduction in the patient's state, and a separate mark
  /// when even 0 is predicted to cross (the drug already given does).
  ///
  /// Two predictions, from the doses recorded so far plus this one and no
  /// later dose:
  /// - the concentration just before the next decision (the next trough);
  /// - the AUC of the current calendar day: the estimated AUC from the day
  ///   start to now plus the predicted AUC from now to the day end.
  /// Later doses of the same day are checked by the shield when they come,
  /// so each one keeps the day's prediction within the threshold.
  func shieldedDose(patient p: Int, _ dose: Double, _ shield: ShieldDefinition) -> Double {
    let estimator = bayesianEstimate!.estimator
    let now = hoursSinceStart
    let interval = rules.decisionIntervalHours
    let dayStart = (now / 24).rounded(.down) * 24
    let dayEnd = dayStart + 24
    let response = estimator.estimatedResponse(patient: p)
    let troughWithout = estimator.predictedConcentration(patient: p, timeHours: now + interval)
    let dayAUCWithout =
      estimator.predictedAUC(patient: p, fromHours: dayStart, toHours: dayEnd)

    let z = shield.predictionStandardDeviations ?? 0
    // The posterior depends only on the levels so far, so every candidate
    // dose and both predictions share one.
    let posterior = z > 0 ? estimator.posteriorCovariance(patient: p) : nil

    func predictedTrough(_ candidate: Double, _ response: InfusionResponse, _ without: Double)
      -> Double
    {
      guard candidate > 0 else { return without }
      let duration = rules.infusionHours(doseMilligrams: candidate)
      return without
        + response.concentration(
          rateMilligramsPerHour: candidate / duration, durationHours: duration,
          elapsedHours: interval)
    }

    func predictedDayAUC(_ candidate: Double, _ response: InfusionResponse, _ without: Double)
      -> Double
    {
      guard candidate > 0 else { return without }
      let duration = rules.infusionHours(doseMilligrams: candidate)
      return without
        + response.cumulativeAUC(
          rateMilligramsPerHour: candidate / duration, durationHours: duration,
          elapsedHours: dayEnd - now)
    }

    func isSafe(_ candidate: Double) -> Bool {
      var trough = predictedTrough(candidate, response, troughWithout)
      var dayAUC = predictedDayAUC(candidate, response, dayAUCWithout)
      if z > 0 {
        // The same predictions at the parameters, z posterior standard
        // deviations away, that raise each of them most.
        func troughAt(_ etas: [Double]) -> Double {
          predictedTrough(
            candidate, estimator.response(patient: p, etas: etas),
            estimator.predictedConcentration(patient: p, etas: etas, timeHours: now + interval))
        }
        func dayAUCAt(_ etas: [Double]) -> Double {
          predictedDayAUC(
            candidate, estimator.response(patient: p, etas: etas),
            estimator.predictedAUC(patient: p, etas: etas, fromHours: dayStart, toHours: dayEnd))
        }
        trough = max(
          trough,
          troughAt(
            estimator.pessimisticEtas(
              patient: p, standardDeviations: z, posterior: posterior, quantity: troughAt))
        )
        dayAUC = max(
          dayAUC,
          dayAUCAt(
            estimator.pessimisticEtas(
              patient: p, standardDeviations: z, posterior: posterior, quantity: dayAUCAt))
        )
      }
      return trough <= shield.maximumPredictedTroughMilligramsPerLiter
        && dayAUC <= shield.maximumPredictedAUC24MilligramHoursPerLiter
    }

    if isSafe(dose) { return dose }
    state.pointer(.shieldReductions)[p] += 1
    let increment = definition.actuatorLimits.doseIncrementMilligrams
    var candidate = ((dose / increment).rounded(.down) - 1) * increment
    while candidate > 0 {
      if isSafe(candidate) { return candidate }
      candidate -= increment
    }
    if !isSafe(0) { state.pointer(.shieldWithoutSafeDose)[p] += 1 }
    return 0
  }
}
