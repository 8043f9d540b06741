import Foundation

/// Scratch memory of one Levenberg-Marquardt search, allocated once per
/// estimator and reused for every patient.
final class MAPSearchWorkspace {
  /// Predictions at the current etas, one per level.
  let predictions: UnsafeMutablePointer<Double>
  /// Predictions at the trial etas.
  let trialPredictions: UnsafeMutablePointer<Double>
  /// Jacobian, level-major: d f_j / d eta_a at `j * freeCount + a`.
  let jacobian: UnsafeMutablePointer<Double>
  /// Approximate Hessian (free x free), its damped copy and its factor.
  let hessian: UnsafeMutablePointer<Double>
  let damped: UnsafeMutablePointer<Double>
  let factor: UnsafeMutablePointer<Double>
  /// Gradient, then the step (free entries).
  let gradient: UnsafeMutablePointer<Double>
  /// Current and trial etas, all structural parameters.
  let current: UnsafeMutablePointer<Double>
  let trial: UnsafeMutablePointer<Double>
  private let allocations: [UnsafeMutablePointer<Double>]

  init(levelCount: Int, freeEtaCount: Int, parameterCount: Int) {
    let free = max(1, freeEtaCount)
    func make(_ count: Int) -> UnsafeMutablePointer<Double> {
      let pointer = UnsafeMutablePointer<Double>.allocate(capacity: count)
      pointer.initialize(repeating: 0, count: count)
      return pointer
    }
    predictions = make(levelCount)
    trialPredictions = make(levelCount)
    jacobian = make(levelCount * free)
    hessian = make(free * free)
    damped = make(free * free)
    factor = make(free * free)
    gradient = make(free)
    current = make(parameterCount)
    trial = make(parameterCount)
    allocations = [
      predictions, trialPredictions, jacobian, hessian, damped, factor, gradient, current, trial,
    ]
  }

  deinit {
    for pointer in allocations { pointer.deallocate() }
  }
}

extension MAPParameterEstimator {
  /// Runs `configuration.iterationsPerUpdate` Levenberg-Marquardt
  /// iterations on one patient's free etas and stores the result.
  func fit(patient: Int) {
    let free = freeEtaIndices.count
    guard free > 0 else { return }
    let levels = levelCounts[patient]
    let space = workspace
    let stored = etas.baseAddress! + patient * parameterCount
    let eta = space.current
    let trial = space.trial
    for index in 0..<parameterCount { eta[index] = stored[index] }

    predict(patient: patient, etas: eta, into: space.predictions)
    var currentObjective = objective(patient: patient, predictions: space.predictions, etas: eta)
    var damping = 1e-3
    let step = configuration.finiteDifferenceStep
    for _ in 0..<configuration.iterationsPerUpdate {
      // Forward-difference Jacobian of the predictions.
      for (a, index) in freeEtaIndices.enumerated() {
        for k in 0..<parameterCount { trial[k] = eta[k] }
        trial[index] += step
        predict(patient: patient, etas: trial, into: space.trialPredictions)
        for j in 0..<levels {
          space.jacobian[j * free + a] = (space.trialPredictions[j] - space.predictions[j]) / step
        }
      }
      accumulateNormalEquations(patient: patient, levels: levels, etas: eta)

      // Damped step (H + damping diag(H)) delta = -g.
      for i in 0..<(free * free) { space.damped[i] = space.hessian[i] }
      for a in 0..<free {
        space.damped[a * free + a] += damping * space.hessian[a * free + a]
        space.gradient[a] = -space.gradient[a]
      }
      guard choleskySolve(space.damped, space.gradient, free, factor: space.factor) else {
        damping = min(damping * 10, 1e10)
        continue
      }
      for k in 0..<parameterCount { trial[k] = eta[k] }
      var largestStep = 0.0
      for (a, index) in freeEtaIndices.enumerated() {
        let bound = etaBounds[index]
        let delta = space.gradient[a]
        guard delta.isFinite else { largestStep = .nan; break }
        trial[index] = min(max(eta[index] + delta, -bound), bound)
        largestStep = max(largestStep, abs(delta))
      }
      guard largestStep.isFinite else {
        damping = min(damping * 10, 1e10)
        continue
      }

      predict(patient: patient, etas: trial, into: space.trialPredictions)
      let trialObjective = objective(
        patient: patient, predictions: space.trialPredictions, etas: trial)
      if trialObjective < currentObjective {
        currentObjective = trialObjective
        for k in 0..<parameterCount { eta[k] = trial[k] }
        for j in 0..<levels { space.predictions[j] = space.trialPredictions[j] }
        damping = max(damping / 10, 1e-12)
        if largestStep < 1e-5 { break }
      } else {
        damping = min(damping * 10, 1e10)
      }
    }
    for index in 0..<parameterCount { stored[index] = eta[index] }
  }

  /// Fills the workspace's Hessian and gradient of the objective at
  /// `etas` from its Jacobian and predictions (Fisher scoring for the
  /// ln s^2 terms).
  private func accumulateNormalEquations(patient: Int, levels: Int, etas eta: UnsafePointer<Double>)
  {
    let free = freeEtaIndices.count
    let space = workspace
    let hessian = space.hessian
    let gradient = space.gradient
    for i in 0..<(free * free) { hessian[i] = 0 }
    for a in 0..<free { gradient[a] = 0 }
    let observed = levelValues.baseAddress! + patient * maximumLevelCount
    let (additive, proportional, minimum) = errorTerms
    for j in 0..<levels {
      let prediction = space.predictions[j]
      let residual = observed[j] - prediction
      let variance = additive + proportional * prediction * prediction + minimum
      let varianceSlope = 2 * proportional * prediction
      let inverse = 1 / variance
      // d/df of r^2 / s^2 + ln s^2, and the expected second derivative.
      let slope =
        -2 * residual * inverse + (1 - residual * residual * inverse) * varianceSlope * inverse
      let information = 2 * inverse + varianceSlope * varianceSlope * inverse * inverse
      let row = space.jacobian + j * free
      for a in 0..<free {
        gradient[a] += slope * row[a]
        for b in 0...a { hessian[a * free + b] += information * row[a] * row[b] }
      }
    }
    // Prior: d/d eta of eta^T P eta is 2 P eta, its Hessian 2 P.
    for a in 0..<free {
      var product = 0.0
      for b in 0..<free {
        product += priorPrecision[a * free + b] * eta[freeEtaIndices[b]]
      }
      gradient[a] += 2 * product
      for b in 0...a {
        hessian[a * free + b] += 2 * priorPrecision[a * free + b]
        hessian[b * free + a] = hessian[a * free + b]
      }
    }
  }

  /// Squares of the additive, proportional and minimum standard
  /// deviations.
  var errorTerms: (Double, Double, Double) {
    let minimum = configuration.minimumStandardDeviationMilligramsPerLiter
    return (
      residualError.additiveMilligramsPerLiter * residualError.additiveMilligramsPerLiter,
      residualError.proportionalFraction * residualError.proportionalFraction,
      minimum * minimum
    )
  }

  /// Returns OFV for given predictions and etas (see the type's
  /// documentation).
  func objective(
    patient: Int, predictions: UnsafePointer<Double>, etas eta: UnsafePointer<Double>
  ) -> Double {
    let observed = levelValues.baseAddress! + patient * maximumLevelCount
    let (additive, proportional, minimum) = errorTerms
    var total = 0.0
    for j in 0..<levelCounts[patient] {
      let prediction = predictions[j]
      let residual = observed[j] - prediction
      let variance = additive + proportional * prediction * prediction + minimum
      total += residual * residual / variance + log(variance)
    }
    let free = freeEtaIndices.count
    for a in 0..<free {
      for b in 0..<free {
        total += eta[freeEtaIndices[a]] * priorPrecision[a * free + b] * eta[freeEtaIndices[b]]
      }
    }
    return total
  }

  /// Returns the closed-form response of a patient at the given etas.
  @inline(__always)
  func response(patient: Int, etas eta: UnsafePointer<Double>) -> InfusionResponse {
    let typical = typicalValues.baseAddress! + patient * parameterCount
    if peripheralCount == 0 {
      return InfusionResponse(
        clearanceLitersPerHour: typical[0] * exp(eta[0]),
        centralVolumeLiters: typical[1] * exp(eta[1]))
    }
    return InfusionResponse(
      clearanceLitersPerHour: typical[0] * exp(eta[0]),
      centralVolumeLiters: typical[1] * exp(eta[1]),
      intercompartmentalClearanceLitersPerHour: typical[2] * exp(eta[2]),
      peripheralVolumeLiters: typical[3] * exp(eta[3]))
  }

  /// Writes the predicted concentration at each of the patient's levels.
  func predict(
    patient: Int, etas eta: UnsafePointer<Double>, into output: UnsafeMutablePointer<Double>
  ) {
    let model = response(patient: patient, etas: eta)
    let times = levelTimeHours.baseAddress! + patient * maximumLevelCount
    let levels = levelCounts[patient]
    for j in 0..<levels { output[j] = 0 }
    let first = patient * maximumInfusionCount
    let (rate0, rate1) = model.rates
    let twoExponentials = model.exponentialCount == 2
    for slot in first..<(first + infusionCounts[patient]) {
      let start = infusionStartHours[slot]
      let duration = infusionDurationHours[slot]
      let rate = infusionRates[slot]
      // After the infusion ends, each exponential decays from the amplitude
      // it reached, so one exp per level and exponential suffices there.
      let amplitude0 = -rate * model.coefficients.0 / rate0 * expm1(-rate0 * duration)
      let amplitude1 =
        twoExponentials ? -rate * model.coefficients.1 / rate1 * expm1(-rate1 * duration) : 0
      for j in 0..<levels {
        let elapsed = times[j] - start
        if elapsed >= duration {
          let after = elapsed - duration
          var value = amplitude0 * exp(-rate0 * after)
          if twoExponentials { value += amplitude1 * exp(-rate1 * after) }
          output[j] += value
        } else if elapsed > 0 {
          output[j] += model.concentration(
            rateMilligramsPerHour: rate, durationHours: duration, elapsedHours: elapsed)
        }
      }
    }
  }

  /// Superposes the recorded infusions at one time.
  @inline(__always)
  func concentration(patient: Int, response model: InfusionResponse, timeHours: Double)
    -> Double
  {
    let first = patient * maximumInfusionCount
    let starts = infusionStartHours.baseAddress! + first
    let durations = infusionDurationHours.baseAddress! + first
    let rates = infusionRates.baseAddress! + first
    var total = 0.0
    for i in 0..<infusionCounts[patient] {
      total += model.concentration(
        rateMilligramsPerHour: rates[i], durationHours: durations[i],
        elapsedHours: timeHours - starts[i])
    }
    return total
  }
}
