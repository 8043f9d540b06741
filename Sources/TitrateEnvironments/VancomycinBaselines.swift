// Built-in baseline policies of `VancomycinEnvironment`.
extension VancomycinEnvironment {
  /// `guideline` and `oracle`, then `bayesian` when the definition sets
  /// `baselines.bayesian`.
  public var baselineNames: [String] {
    ["guideline", "oracle"] + (definition.baselines.bayesian == nil ? [] : ["bayesian"])
  }

  /// Returns each environment's baseline action for the current decision,
  /// in the environment's action units (level index or mg).
  ///
  /// - `guideline`: weight-based dosing from the definition's
  ///   `baselines.guideline` (shipped: a 25 mg/kg loading dose capped at
  ///   3000 mg at t = 0, then 15 mg/kg every decision, total body weight),
  ///   rounded to the dose increment.
  /// - `oracle`: uses the patient's true parameters and current drug
  ///   amounts. Among the doses the actuator would deliver unchanged, picks
  ///   the one whose predicted AUC over the next interval is closest to
  ///   `targetDailyAUC` x interval / 24 h (250 mg h/L for q12h and 500).
  ///   The prediction is closed-form (`IntervalAUCPredictor`), with the
  ///   same grid-rounded infusion duration as the simulation.
  /// - `bayesian`: model-informed precision dosing from the MAP estimate
  ///   (see `BayesianBaseline` and `bayesianDoses`).
  /// - Throws: `BaselineError.unknownBaseline` for another name.
  public func baselineActions(named name: String) throws(BaselineError) -> [Float] {
    let doses: [Double]
    switch name {
    case "guideline": doses = guidelineDoses()
    case "oracle": doses = oracleDoses()
    case "bayesian" where baselineNames.contains("bayesian"):
      doses = bayesianDoses(definition.baselines.bayesian!)
    default: throw .unknownBaseline(name: name, known: baselineNames)
    }
    switch actionMode {
    case .discreteLevels:
      return doses.map { Float(($0 / rules.doseLevelStepMilligrams).rounded()) }
    case .continuousMilligrams:
      return doses.map { Float($0) }
    }
  }

  /// Guideline doses in mg for the current decision.
  func guidelineDoses() -> [Double] {
    let guideline = definition.baselines.guideline
    let increment = definition.actuatorLimits.doseIncrementMilligrams
    return patients.map { patient in
      var dose: Double
      if decisionIndex == 0 {
        dose = min(
          guideline.maximumLoadingDoseMilligrams,
          guideline.loadingMilligramsPerKilogram * patient.weightKilograms)
      } else {
        dose = guideline.maintenanceMilligramsPerKilogram * patient.weightKilograms
      }
      dose = (dose / increment).rounded(.toNearestOrAwayFromZero) * increment
      return dose
    }
  }

  /// Returns, for patient `p`, the dose level (mg) that the actuator would
  /// deliver unchanged and whose `predicted` value is closest to `target`.
  /// `predicted` takes the candidate dose and its infusion hours and
  /// returns nil to skip the candidate. 0 mg when no level qualifies.
  func closestDeliverableDose(
    patient p: Int, target: Double, predicted: (Double, Double) -> Double?
  ) -> Double {
    let history = state.recentDoses
    var previous24Hours = 0.0
    for k in 0..<windowDoseCount { previous24Hours += history[k * batchSize + p] }
    var bestDose = 0.0
    var bestError = Double.infinity
    for level in 0..<rules.doseLevelCount {
      let candidate = Double(level) * rules.doseLevelStepMilligrams
      let delivered = actuator.limited(candidate, milligramsInPrevious24Hours: previous24Hours)
      guard delivered.interventions.isEmpty,
        let value = predicted(candidate, rules.infusionHours(doseMilligrams: candidate))
      else { continue }
      let error = abs(value - target)
      if error < bestError {
        bestError = error
        bestDose = candidate
      }
    }
    return bestDose
  }

  /// Oracle doses in mg for the current decision.
  func oracleDoses() -> [Double] {
    let horizonHours = rules.decisionIntervalHours
    let targetAUC =
      definition.baselines.oracle.targetDailyAUCMilligramHoursPerLiter * horizonHours / 24
    let central = batch.amounts(of: .central)
    let peripheral =
      batch.structure.peripheralCount > 0
      ? batch.amounts(of: .peripheral(0)) : [Double](repeating: 0, count: batchSize)
    return (0..<batchSize).map { p in
      let predictor = IntervalAUCPredictor(parameters: patients[p].parameters)
      let carryOver = predictor.carryOverAUC(
        centralMilligrams: central[p], peripheralMilligrams: peripheral[p],
        horizonHours: horizonHours)
      return closestDeliverableDose(patient: p, target: targetAUC) { candidate, durationHours in
        carryOver
          + predictor.infusionAUC(
            doseMilligrams: candidate, durationHours: durationHours, horizonHours: horizonHours)
      }
    }
  }

  /// Bayesian (MAP-guided) doses in mg for the current decision.
  ///
  /// For each deliverable dose level, the MAP estimate forecasts the AUC of
  /// the next 24 h. The forecast includes the doses already given and the
  /// candidate repeated at every decision in that window (now and 12 h
  /// later for q12h). The level with the forecast closest to the target is
  /// given. With a trough cap, levels whose predicted next trough exceeds
  /// the cap are skipped, but 0 mg never is. Before the first level the
  /// estimate is the prior's typical patient for the covariates.
  func bayesianDoses(_ settings: BayesianBaseline) -> [Double] {
    guard let estimate = bayesianEstimate else {
      preconditionFailure("the bayesian baseline needs a bayesianEstimate section")
    }
    let estimator = estimate.estimator
    let now = hoursSinceStart
    let interval = rules.decisionIntervalHours
    let horizonHours = 24.0
    let targetAUC = settings.targetDailyAUCMilligramHoursPerLiter * horizonHours / 24
    let repeats = Int((horizonHours / interval).rounded(.up))
    return (0..<batchSize).map { p in
      let response = estimator.estimatedResponse(patient: p)
      let aucWithout = estimator.predictedAUC(
        patient: p, fromHours: now, toHours: now + horizonHours)
      let troughWithout = estimator.predictedConcentration(patient: p, timeHours: now + interval)
      return closestDeliverableDose(patient: p, target: targetAUC) { candidate, duration in
        guard candidate > 0 else { return aucWithout }
        let rate = candidate / duration
        let trough =
          troughWithout
          + response.concentration(
            rateMilligramsPerHour: rate, durationHours: duration, elapsedHours: interval)
        if let cap = settings.maximumPredictedTroughMilligramsPerLiter, trough > cap {
          return nil
        }
        var forecast = aucWithout
        for k in 0..<repeats {
          forecast += response.cumulativeAUC(
            rateMilligramsPerHour: rate, durationHours: duration,
            elapsedHours: horizonHours - Double(k) * interval)
        }
        return forecast
      }
    }
  }
}
