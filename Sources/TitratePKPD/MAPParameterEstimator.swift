import Foundation

/// Settings of `MAPParameterEstimator`'s Levenberg-Marquardt search.
public struct MAPEstimatorConfiguration: Sendable, Equatable {
  /// Levenberg-Marquardt iterations per `update()`, 1 to 100. Each costs
  /// one prediction per free eta (the forward-difference Jacobian) plus one
  /// for the trial point. The search warm-starts from the previous
  /// estimate, so a few iterations per new level suffice.
  public var iterationsPerUpdate: Int = 8
  /// Forward-difference step of the Jacobian, in eta (log) units, in
  /// (0, 0.01].
  public var finiteDifferenceStep: Double = 1e-6
  /// Added in quadrature to the residual standard deviation, mg/L, >= 0,
  /// so that the objective stays finite when the error model has no
  /// additive part (or none at all) and a prediction is 0.
  public var minimumStandardDeviationMilligramsPerLiter: Double = 0.01
  /// Bound on each |eta|, in prior standard deviations (omega), > 0. The
  /// prior density there is e^(-bound^2 / 2), so the bound only keeps
  /// parameters finite on absurd data.
  public var maximumEtaStandardDeviations: Double = 8

  /// Creates settings; the defaults suit vancomycin troughs and peaks.
  public init() {}

  /// Checks every field against its range.
  /// - Throws: `PharmacokineticError` naming the first field out of range.
  public func validate() throws(PharmacokineticError) {
    guard (1...100).contains(iterationsPerUpdate) else {
      throw PharmacokineticError(
        parameter: "iterationsPerUpdate", value: "\(iterationsPerUpdate)",
        requirement: "expected 1 to 100 iterations")
    }
    guard finiteDifferenceStep > 0, finiteDifferenceStep <= 0.01 else {
      throw PharmacokineticError(
        parameter: "finiteDifferenceStep", value: "\(finiteDifferenceStep)",
        requirement: "expected a step in (0, 0.01] eta units")
    }
    guard minimumStandardDeviationMilligramsPerLiter.isFinite,
      minimumStandardDeviationMilligramsPerLiter >= 0
    else {
      throw PharmacokineticError(
        parameter: "minimumStandardDeviationMilligramsPerLiter",
        value: "\(minimumStandardDeviationMilligramsPerLiter)",
        requirement: "expected a finite standard deviation >= 0 mg/L")
    }
    try requirePositiveFinite(maximumEtaStandardDeviations, "maximumEtaStandardDeviations")
  }
}

/// Maximum a posteriori (MAP) estimates of the individual PK parameters
/// of a batch of patients from their infusion histories and measured
/// levels, with a population model as the prior (the Bayesian dose
/// individualisation of the 2020 vancomycin consensus guideline).
///
/// Model: one or two compartments with IV infusions, structural
/// parameters in the order CL, V1 (then Q, V2 with a peripheral
/// compartment), parameter_i = typical_i exp(eta_i). The etas have the
/// prior N(0, Omega) of `variability` (correlations included); an eta with
/// omega^2 = 0 stays at 0. For levels y_j at times t_j with predictions
/// f_j(eta), the estimate minimises the negative double log posterior
/// (constants dropped):
///
///   OFV(eta) = sum_j [(y_j - f_j)^2 / s_j^2 + ln s_j^2] + eta^T Omega^-1 eta,
///   s_j^2 = additive^2 + (proportional f_j)^2 + minimum^2,
///
/// where `minimum` is `configuration.minimumStandardDeviationMilligramsPerLiter`.
/// The search is Levenberg-Marquardt on the free etas, with Fisher scoring
/// for the ln s^2 term: the expected Hessian of each level's term is
/// 2 (1/s^2 + (ds^2/df)^2 / (2 s^4)) J J^T. It uses a forward-difference
/// Jacobian and a fixed number of iterations per `update()`, warm-started
/// from the previous estimate. A trial point is accepted only when it lowers the
/// objective, so the objective never rises and the etas stay finite for
/// any finite input. Without levels the estimate is the prior mode,
/// eta = 0.
///
/// Predictions are exact superpositions of closed-form infusion responses
/// (`InfusionResponse`). Storage is one allocation per field, patient-
/// major, made once at init; `update()` allocates nothing.
///
/// Not thread-safe: use one estimator per thread.
public final class MAPParameterEstimator {
  /// The number of patients, >= 1.
  public let patientCount: Int
  /// Peripheral compartments, 0 or 1.
  public let peripheralCount: Int
  /// Structural parameters per patient: 2 (CL, V1) or 4 (CL, V1, Q, V2).
  public let parameterCount: Int
  /// Prior of the etas, one per structural parameter.
  public let variability: LogNormalVariability
  /// Residual error model of the measured levels.
  public let residualError: ResidualErrorModel
  /// Infusions each patient can hold until `resetPatient`.
  public let maximumInfusionCount: Int
  /// Levels each patient can hold until `resetPatient`.
  public let maximumLevelCount: Int
  /// Search settings.
  public let configuration: MAPEstimatorConfiguration

  /// Indices of the etas with omega^2 > 0 (the ones estimated).
  let freeEtaIndices: [Int]
  /// Omega^-1 restricted to the free etas, row-major.
  let priorPrecision: [Double]
  /// Bound on each |eta|, per structural parameter (0 for fixed ones).
  let etaBounds: [Double]

  let typicalValues: UnsafeMutableBufferPointer<Double>
  let etas: UnsafeMutableBufferPointer<Double>
  let infusionStartHours: UnsafeMutableBufferPointer<Double>
  let infusionDurationHours: UnsafeMutableBufferPointer<Double>
  let infusionRates: UnsafeMutableBufferPointer<Double>
  let infusionCounts: UnsafeMutableBufferPointer<Int>
  let levelTimeHours: UnsafeMutableBufferPointer<Double>
  let levelValues: UnsafeMutableBufferPointer<Double>
  let levelCounts: UnsafeMutableBufferPointer<Int>
  let pendingUpdate: UnsafeMutableBufferPointer<Bool>
  /// Search workspace shared by all patients (see `MAPSearchWorkspace`).
  let workspace: MAPSearchWorkspace

  /// Creates an estimator whose patients all start with typical values 1
  /// and no history; set each patient with `resetPatient(_:typical:)`.
  /// - Parameters:
  ///   - patientCount: patients, >= 1.
  ///   - peripheralCount: 0 or 1.
  ///   - variability: one eta per structural parameter (2 or 4).
  ///   - residualError: the error model of the levels (validated here).
  ///   - maximumInfusionCount: infusions per patient, >= 1.
  ///   - maximumLevelCount: levels per patient, >= 1.
  ///   - configuration: search settings (validated here).
  /// - Throws: `PharmacokineticError` naming the first invalid argument.
  public init(
    patientCount: Int, peripheralCount: Int, variability: LogNormalVariability,
    residualError: ResidualErrorModel, maximumInfusionCount: Int, maximumLevelCount: Int,
    configuration: MAPEstimatorConfiguration = MAPEstimatorConfiguration()
  ) throws(PharmacokineticError) {
    try Self.requireCount(patientCount, "patientCount")
    try Self.requireCount(maximumInfusionCount, "maximumInfusionCount")
    try Self.requireCount(maximumLevelCount, "maximumLevelCount")
    guard peripheralCount == 0 || peripheralCount == 1 else {
      throw PharmacokineticError(
        parameter: "peripheralCount", value: "\(peripheralCount)",
        requirement: "expected 0 or 1; the closed-form responses cover one or two compartments")
    }
    let parameterCount = 2 + 2 * peripheralCount
    guard variability.count == parameterCount else {
      throw PharmacokineticError(
        parameter: "variability", value: "\(variability.count) etas",
        requirement:
          "expected one eta per structural parameter (\(parameterCount)); use omega^2 = 0"
          + " for a parameter without variability")
    }
    try residualError.validate()
    try configuration.validate()

    self.patientCount = patientCount
    self.peripheralCount = peripheralCount
    self.parameterCount = parameterCount
    self.variability = variability
    self.residualError = residualError
    self.maximumInfusionCount = maximumInfusionCount
    self.maximumLevelCount = maximumLevelCount
    self.configuration = configuration
    freeEtaIndices = variability.omegaSquared.indices.filter { variability.omegaSquared[$0] > 0 }
    priorPrecision = try Self.precision(of: variability, free: freeEtaIndices)
    etaBounds = variability.omegaSquared.map {
      $0.squareRoot() * configuration.maximumEtaStandardDeviations
    }

    typicalValues = .allocate(capacity: patientCount * parameterCount)
    typicalValues.initialize(repeating: 1)
    etas = .allocate(capacity: patientCount * parameterCount)
    etas.initialize(repeating: 0)
    let infusionSlots = patientCount * maximumInfusionCount
    infusionStartHours = .allocate(capacity: infusionSlots)
    infusionDurationHours = .allocate(capacity: infusionSlots)
    infusionRates = .allocate(capacity: infusionSlots)
    for buffer in [infusionStartHours, infusionDurationHours, infusionRates] {
      buffer.initialize(repeating: 0)
    }
    infusionCounts = .allocate(capacity: patientCount)
    infusionCounts.initialize(repeating: 0)
    let levelSlots = patientCount * maximumLevelCount
    levelTimeHours = .allocate(capacity: levelSlots)
    levelTimeHours.initialize(repeating: 0)
    levelValues = .allocate(capacity: levelSlots)
    levelValues.initialize(repeating: 0)
    levelCounts = .allocate(capacity: patientCount)
    levelCounts.initialize(repeating: 0)
    pendingUpdate = .allocate(capacity: patientCount)
    pendingUpdate.initialize(repeating: false)
    workspace = MAPSearchWorkspace(
      levelCount: maximumLevelCount, freeEtaCount: freeEtaIndices.count,
      parameterCount: parameterCount)
  }

  deinit {
    for buffer in [
      typicalValues, etas, infusionStartHours, infusionDurationHours, infusionRates,
      levelTimeHours, levelValues,
    ] {
      buffer.deallocate()
    }
    infusionCounts.deallocate()
    levelCounts.deallocate()
    pendingUpdate.deallocate()
  }

  // MARK: Patient history

  /// Starts a patient afresh: sets its typical parameters (from the prior
  /// model and its covariates), sets its etas to 0 and clears its
  /// infusions and levels.
  /// - Throws: `PharmacokineticError` when the parameters are invalid or
  ///   their peripheral count differs from the estimator's.
  public func resetPatient(_ patient: Int, typical parameters: CompartmentalParameters)
    throws(PharmacokineticError)
  {
    checkPatient(patient)
    try parameters.validate()
    guard parameters.peripheralCount == peripheralCount,
      parameters.absorptionRatePerHour == nil
    else {
      throw PharmacokineticError(
        parameter: "typical", value: "\(CompartmentalStructure(parameters))",
        requirement:
          "expected an IV model with \(peripheralCount) peripheral compartment(s), like"
          + " the estimator")
    }
    let row = typicalValues.baseAddress! + patient * parameterCount
    row[0] = parameters.clearanceLitersPerHour
    row[1] = parameters.centralVolumeLiters
    if peripheralCount == 1 {
      row[2] = parameters.intercompartmentalClearancesLitersPerHour[0]
      row[3] = parameters.peripheralVolumesLiters[0]
    }
    for index in 0..<parameterCount { etas[patient * parameterCount + index] = 0 }
    infusionCounts[patient] = 0
    levelCounts[patient] = 0
    pendingUpdate[patient] = false
  }

  /// Records an infusion given to a patient. A dose of 0 mg is ignored.
  /// - Parameters:
  ///   - startHours: start time, h, on the same clock as the levels.
  ///   - durationHours: > 0 for a dose > 0.
  ///   - doseMilligrams: >= 0.
  /// - Precondition: the patient has fewer than `maximumInfusionCount`
  ///   infusions and the values are finite.
  public func addInfusion(
    patient: Int, startHours: Double, durationHours: Double, doseMilligrams: Double
  ) {
    checkPatient(patient)
    precondition(
      doseMilligrams.isFinite && doseMilligrams >= 0 && startHours.isFinite,
      "infusion of \(doseMilligrams) mg at \(startHours) h: expected finite values, dose >= 0")
    guard doseMilligrams > 0 else { return }
    precondition(
      durationHours.isFinite && durationHours > 0,
      "infusion duration \(durationHours) h: expected a finite value > 0")
    let count = infusionCounts[patient]
    precondition(
      count < maximumInfusionCount,
      "patient \(patient) already holds \(count) infusions, the maximum")
    let slot = patient * maximumInfusionCount + count
    infusionStartHours[slot] = startHours
    infusionDurationHours[slot] = durationHours
    infusionRates[slot] = doseMilligrams / durationHours
    infusionCounts[patient] = count + 1
  }

  /// Records a measured level; the next `update()` refits the patient.
  /// - Precondition: fewer than `maximumLevelCount` levels held; finite
  ///   time and value.
  public func addLevel(patient: Int, timeHours: Double, concentrationMilligramsPerLiter: Double)
  {
    checkPatient(patient)
    precondition(
      timeHours.isFinite && concentrationMilligramsPerLiter.isFinite,
      "level \(concentrationMilligramsPerLiter) mg/L at \(timeHours) h: expected finite values")
    let count = levelCounts[patient]
    precondition(
      count < maximumLevelCount, "patient \(patient) already holds \(count) levels, the maximum")
    let slot = patient * maximumLevelCount + count
    levelTimeHours[slot] = timeHours
    levelValues[slot] = concentrationMilligramsPerLiter
    levelCounts[patient] = count + 1
    pendingUpdate[patient] = true
  }

  /// Returns the number of levels recorded for a patient.
  public func levelCount(patient: Int) -> Int {
    checkPatient(patient)
    return levelCounts[patient]
  }

  // MARK: Estimates

  /// Refits every patient that received a level since its last fit,
  /// starting from its current estimate.
  public func update() {
    for patient in 0..<patientCount where pendingUpdate[patient] {
      fit(patient: patient)
      pendingUpdate[patient] = false
    }
  }

  /// Returns a patient's current etas, one per structural parameter.
  public func estimatedEtas(patient: Int) -> [Double] {
    checkPatient(patient)
    return (0..<parameterCount).map { etas[patient * parameterCount + $0] }
  }

  /// Returns one current individual parameter, typical x exp(eta), in its
  /// unit (L/h or L); `index` follows the structural order CL, V1, Q, V2.
  @inline(__always)
  public func estimatedValue(patient: Int, parameterIndex index: Int) -> Double {
    let slot = patient * parameterCount + index
    return typicalValues[slot] * exp(etas[slot])
  }

  /// Returns a patient's current individual parameters.
  public func estimatedParameters(patient: Int) -> CompartmentalParameters {
    checkPatient(patient)
    let values = (0..<parameterCount).map { estimatedValue(patient: patient, parameterIndex: $0) }
    if peripheralCount == 0 {
      return CompartmentalParameters(
        clearanceLitersPerHour: values[0], centralVolumeLiters: values[1])
    }
    return CompartmentalParameters(
      clearanceLitersPerHour: values[0], centralVolumeLiters: values[1],
      intercompartmentalClearancesLitersPerHour: [values[2]], peripheralVolumesLiters: [values[3]])
  }

  /// Returns the closed-form response of a patient's current estimate.
  @inline(__always)
  public func estimatedResponse(patient: Int) -> InfusionResponse {
    response(patient: patient, etas: etas.baseAddress! + patient * parameterCount)
  }

  /// Returns the concentration, mg/L, that the current estimate predicts
  /// at `timeHours` from the recorded infusions.
  public func predictedConcentration(patient: Int, timeHours: Double) -> Double {
    checkPatient(patient)
    return concentration(
      patient: patient, response: estimatedResponse(patient: patient), timeHours: timeHours)
  }

  /// Returns the AUC of the predicted concentration, mg h/L, over
  /// [`fromHours`, `toHours`] from the recorded infusions.
  public func predictedAUC(patient: Int, fromHours: Double, toHours: Double) -> Double {
    checkPatient(patient)
    return auc(
      patient: patient, response: estimatedResponse(patient: patient), fromHours: fromHours,
      toHours: toHours)
  }

  /// Returns the AUC over [`fromHours`, `toHours`] of the recorded
  /// infusions for one response.
  func auc(patient: Int, response: InfusionResponse, fromHours: Double, toHours: Double)
    -> Double
  {
    var total = 0.0
    let first = patient * maximumInfusionCount
    for slot in first..<(first + infusionCounts[patient]) {
      let start = infusionStartHours[slot]
      let duration = infusionDurationHours[slot]
      let rate = infusionRates[slot]
      total +=
        response.cumulativeAUC(
          rateMilligramsPerHour: rate, durationHours: duration, elapsedHours: toHours - start)
        - response.cumulativeAUC(
          rateMilligramsPerHour: rate, durationHours: duration, elapsedHours: fromHours - start)
    }
    return total
  }

  /// Returns the objective OFV (see the type's documentation) of a patient
  /// at the given etas, one per structural parameter. Tests and diagnostics
  /// use it, and fixed etas are read as given.
  public func objective(patient: Int, etas candidate: [Double]) -> Double {
    checkPatient(patient)
    precondition(
      candidate.count == parameterCount,
      "expected \(parameterCount) etas, got \(candidate.count)")
    return candidate.withUnsafeBufferPointer { buffer in
      predict(patient: patient, etas: buffer.baseAddress!, into: workspace.predictions)
      return objective(
        patient: patient, predictions: workspace.predictions, etas: buffer.baseAddress!)
    }
  }

  // MARK: Helpers

  @inline(__always)
  func checkPatient(_ patient: Int) {
    precondition(
      (0..<patientCount).contains(patient), "patient index \(patient) outside 0..<\(patientCount)")
  }

  private static func requireCount(_ value: Int, _ name: String) throws(PharmacokineticError) {
    guard value >= 1 else {
      throw PharmacokineticError(
        parameter: name, value: "\(value)", requirement: "expected at least 1")
    }
  }

  /// Inverts the covariance of the free etas, diag(omega) R diag(omega).
  private static func precision(of variability: LogNormalVariability, free: [Int])
    throws(PharmacokineticError) -> [Double]
  {
    let n = free.count
    var covariance = [Double](repeating: 0, count: n * n)
    for (row, i) in free.enumerated() {
      covariance[row * n + row] = variability.omegaSquared[i]
    }
    for correlation in variability.correlations {
      guard let row = free.firstIndex(of: correlation.first),
        let column = free.firstIndex(of: correlation.second)
      else { continue }
      let value =
        correlation.coefficient
        * (variability.omegaSquared[correlation.first]
          * variability.omegaSquared[correlation.second]).squareRoot()
      covariance[row * n + column] = value
      covariance[column * n + row] = value
    }
    var inverse = [Double](repeating: 0, count: n * n)
    for column in 0..<n {
      var unit = [Double](repeating: 0, count: n)
      unit[column] = 1
      let solved = covariance.withUnsafeMutableBufferPointer { matrix in
        unit.withUnsafeMutableBufferPointer { vector in
          choleskySolveCopy(matrix.baseAddress!, vector.baseAddress!, n)
        }
      }
      guard solved else {
        throw PharmacokineticError(
          parameter: "variability", value: "\(variability.omegaSquared)",
          requirement: "the eta covariance must be positive definite; reduce the correlations")
      }
      for row in 0..<n { inverse[row * n + column] = unit[row] }
    }
    return inverse
  }
}

/// Solves `matrix x = vector` for a symmetric positive definite n x n
/// matrix (row-major) without changing `matrix`; `vector` receives x.
/// Returns false when a pivot is not positive.
func choleskySolveCopy(
  _ matrix: UnsafeMutablePointer<Double>, _ vector: UnsafeMutablePointer<Double>, _ n: Int
) -> Bool {
  withUnsafeTemporaryAllocation(of: Double.self, capacity: max(1, n * n)) { factor in
    let l = factor.baseAddress!
    return choleskySolve(matrix, vector, n, factor: l)
  }
}

/// Solves `matrix x = vector` by Cholesky into `factor` (n x n scratch);
/// `vector` receives x. Returns false when a pivot is not positive.
@inline(__always)
func choleskySolve(
  _ matrix: UnsafePointer<Double>, _ vector: UnsafeMutablePointer<Double>, _ n: Int,
  factor l: UnsafeMutablePointer<Double>
) -> Bool {
  for i in 0..<n {
    for j in 0...i {
      var sum = matrix[i * n + j]
      for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
      if i == j {
        guard sum > 0, sum.isFinite else { return false }
        l[i * n + i] = sum.squareRoot()
      } else {
        l[i * n + j] = sum / l[j * n + j]
      }
    }
  }
  // Forward substitution L z = b, then back substitution L^T x = z.
  for i in 0..<n {
    var sum = vector[i]
    for k in 0..<i { sum -= l[i * n + k] * vector[k] }
    vector[i] = sum / l[i * n + i]
  }
  for i in stride(from: n - 1, through: 0, by: -1) {
    var sum = vector[i]
    for k in (i + 1)..<n { sum -= l[k * n + i] * vector[k] }
    vector[i] = sum / l[i * n + i]
  }
  return true
}
