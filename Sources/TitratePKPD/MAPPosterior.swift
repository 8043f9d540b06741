import Foundation

// The spread of the posterior around the MAP estimate, for predictions that
// must hold for plausible parameters and not only for the most likely ones.
extension MAPParameterEstimator {
  /// Returns the Laplace approximation of the posterior covariance of a
  /// patient's free etas at the current estimate: the inverse of the
  /// expected Hessian of -log posterior, that is of
  /// `sum_j w_j J_j J_j^T + Omega^-1` with the level weights
  /// `w_j = 1 / s_j^2 + (ds_j^2/df)^2 / (2 s_j^4)` and the forward-difference
  /// Jacobian `J_j` of the level predictions (the search's own curvature).
  /// Without levels it is the prior covariance Omega.
  /// - Returns: the free eta indices (structural order CL, V1, Q, V2) and
  ///   the covariance over them, row-major.
  public func posteriorCovariance(patient: Int) -> (freeIndices: [Int], covariance: [Double]) {
    checkPatient(patient)
    let free = freeEtaIndices
    let d = free.count
    var information = priorPrecision
    let levels = levelCounts[patient]
    if levels > 0 {
      var eta = estimatedEtas(patient: patient)
      var base = [Double](repeating: 0, count: levels)
      var shifted = [Double](repeating: 0, count: levels)
      eta.withUnsafeBufferPointer { predict(patient: patient, etas: $0.baseAddress!, into: &base) }
      var jacobian = [Double](repeating: 0, count: d * levels)
      let step = configuration.finiteDifferenceStep
      for (column, index) in free.enumerated() {
        eta[index] += step
        eta.withUnsafeBufferPointer {
          predict(patient: patient, etas: $0.baseAddress!, into: &shifted)
        }
        eta[index] -= step
        for j in 0..<levels { jacobian[column * levels + j] = (shifted[j] - base[j]) / step }
      }
      let additive = residualError.additiveMilligramsPerLiter
      let proportional = residualError.proportionalFraction
      let minimum = configuration.minimumStandardDeviationMilligramsPerLiter
      for j in 0..<levels {
        let f = base[j]
        let variance = additive * additive + proportional * proportional * f * f + minimum * minimum
        let slope = 2 * proportional * proportional * f
        let weight = 1 / variance + slope * slope / (2 * variance * variance)
        for row in 0..<d {
          for column in 0..<d {
            information[row * d + column] +=
              weight * jacobian[row * levels + j] * jacobian[column * levels + j]
          }
        }
      }
    }
    return (free, Self.inverseOfSymmetricPositiveDefinite(information, dimension: d))
  }

  /// Returns the etas, within `standardDeviations` posterior standard
  /// deviations of the estimate, that maximise the linearised value of
  /// `quantity` (a function of the etas): `eta + z Sigma g / sqrt(g^T Sigma g)`
  /// with `g` its forward-difference gradient at the estimate. The estimate
  /// itself comes back when `quantity` does not depend on the free etas.
  /// - Parameter posterior: `posteriorCovariance(patient:)`, passed in when
  ///   several quantities share it; nil computes it here.
  public func pessimisticEtas(
    patient: Int, standardDeviations z: Double,
    posterior: (freeIndices: [Int], covariance: [Double])? = nil,
    quantity: ([Double]) -> Double
  ) -> [Double] {
    let eta = estimatedEtas(patient: patient)
    let (free, covariance) = posterior ?? posteriorCovariance(patient: patient)
    let d = free.count
    let step = configuration.finiteDifferenceStep
    let base = quantity(eta)
    var gradient = [Double](repeating: 0, count: d)
    for (column, index) in free.enumerated() {
      var shifted = eta
      shifted[index] += step
      gradient[column] = (quantity(shifted) - base) / step
    }
    var direction = [Double](repeating: 0, count: d)
    var spread = 0.0
    for row in 0..<d {
      for column in 0..<d { direction[row] += covariance[row * d + column] * gradient[column] }
      spread += gradient[row] * direction[row]
    }
    guard spread > 0, spread.isFinite else { return eta }
    var result = eta
    let scale = z / spread.squareRoot()
    for (column, index) in free.enumerated() {
      result[index] = max(
        -etaBounds[index], min(etaBounds[index], eta[index] + scale * direction[column]))
    }
    return result
  }

  /// Returns the closed-form response of a patient at the given etas, one
  /// per structural parameter.
  public func response(patient: Int, etas candidate: [Double]) -> InfusionResponse {
    checkPatient(patient)
    precondition(
      candidate.count == parameterCount,
      "expected \(parameterCount) etas, got \(candidate.count)")
    return candidate.withUnsafeBufferPointer { response(patient: patient, etas: $0.baseAddress!) }
  }

  /// Returns the concentration, mg/L, predicted at `timeHours` from the
  /// recorded infusions by the patient's parameters at `etas`.
  public func predictedConcentration(patient: Int, etas candidate: [Double], timeHours: Double)
    -> Double
  {
    concentration(
      patient: patient, response: response(patient: patient, etas: candidate),
      timeHours: timeHours)
  }

  /// Returns the AUC, mg h/L, over [`fromHours`, `toHours`] of the
  /// recorded infusions for the patient's parameters at `etas`.
  public func predictedAUC(
    patient: Int, etas candidate: [Double], fromHours: Double, toHours: Double
  ) -> Double {
    auc(
      patient: patient, response: response(patient: patient, etas: candidate),
      fromHours: fromHours, toHours: toHours)
  }

  /// Inverts a small symmetric positive definite matrix by Cholesky
  /// factorisation (the information matrix is the prior precision plus a
  /// positive semidefinite term, so it is positive definite).
  static func inverseOfSymmetricPositiveDefinite(_ matrix: [Double], dimension n: Int) -> [Double] {
    var lower = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in 0...i {
        var sum = matrix[i * n + j]
        for k in 0..<j { sum -= lower[i * n + k] * lower[j * n + k] }
        lower[i * n + j] = i == j ? sum.squareRoot() : sum / lower[j * n + j]
      }
    }
    var inverse = [Double](repeating: 0, count: n * n)
    for column in 0..<n {
      // Solve L y = e_column, then L^T x = y.
      var y = [Double](repeating: 0, count: n)
      for i in 0..<n {
        var sum = i == column ? 1.0 : 0.0
        for k in 0..<i { sum -= lower[i * n + k] * y[k] }
        y[i] = sum / lower[i * n + i]
      }
      for i in stride(from: n - 1, through: 0, by: -1) {
        var sum = y[i]
        for k in (i + 1)..<n { sum -= lower[k * n + i] * inverse[k * n + column] }
        inverse[i * n + column] = sum / lower[i * n + i]
      }
    }
    return inverse
  }
}
