import TitratePKPD

/// The MAP estimation behind observation entries 21 to 27 (see
/// `VancomycinObservation`): one `MAPParameterEstimator` over the batch,
/// with the definition's prior model as prior and its residual error as the
/// error model, fed with every delivered dose and every measured level.
final class VancomycinBayesianEstimate {
  let estimator: MAPParameterEstimator
  /// Computes the prior's typical parameters from a patient's covariates.
  private let priorSampler: PatientSampler
  private let etaCount: Int
  /// Infusion duration of a 1000-mg dose under the dosing rules, h.
  private let referenceDurationHours: Double

  /// Reference dose of entries 25 and 27, mg.
  static let referenceDoseMilligrams = 1000.0

  /// - Precondition: the definition is validated, has a `bayesianEstimate`
  ///   section and names the population.
  init(definition: EnvironmentDefinition, populationName: String, batchSize: Int) {
    guard let section = definition.bayesianEstimate,
      let prior = definition.models[section.priorModel]
    else { preconditionFailure("a validated definition with a bayesianEstimate section") }
    // The sampler reads the population's covariates but the prior's model.
    var priorDefinition = definition
    priorDefinition.populations[populationName]?.model = section.priorModel
    priorSampler = PatientSampler(definition: priorDefinition, populationName: populationName)

    let present = prior.parameters.present
    etaCount = present.count
    let names = present.map(\.0)
    let correlations = prior.correlations.compactMap { correlation -> EtaCorrelation? in
      guard let first = names.firstIndex(of: correlation.first),
        let second = names.firstIndex(of: correlation.second)
      else { return nil }
      return EtaCorrelation(first: first, second: second, coefficient: correlation.coefficient)
    }
    // The site's measurement error when it sets one, else the prior's.
    let measurementError =
      definition.populations[populationName]?.measurementError ?? prior.residualError
    let rules = definition.dosing
    referenceDurationHours = rules.infusionHours(doseMilligrams: Self.referenceDoseMilligrams)
    do {
      // `present` lists CL, V1, then Q, V2: the estimator's structural order.
      let variability = try LogNormalVariability(
        omegaSquared: present.map { $0.1.variability?.omegaSquared ?? 0 },
        correlations: correlations)
      estimator = try MAPParameterEstimator(
        patientCount: batchSize, peripheralCount: prior.compartments - 1,
        variability: variability,
        residualError: measurementError.errorModel,
        maximumInfusionCount: rules.decisionsPerEpisode,
        maximumLevelCount: 2 * rules.decisionsPerEpisode)
    } catch {
      preconditionFailure("the validated prior model was rejected: \(error)")
    }
  }

  /// Starts every patient at the prior's typical values for its
  /// covariates, with no doses or levels.
  func reset(patients: [VirtualPatient]) {
    let zeros = [Double](repeating: 0, count: etaCount)
    for (index, patient) in patients.enumerated() {
      let typical = priorSampler.individualParameters(
        ageYears: patient.ageYears, weightKilograms: patient.weightKilograms,
        isFemale: patient.isFemale,
        serumCreatinineMilligramsPerDeciliter: patient.serumCreatinineMilligramsPerDeciliter,
        onHaemodialysis: patient.onHaemodialysis, etas: zeros)
      do {
        try estimator.resetPatient(index, typical: typical)
      } catch {
        preconditionFailure("prior typical parameters were rejected: \(error)")
      }
    }
  }

  /// Writes entries 21 to 27 into row-major observation rows of `width`
  /// entries, at time `nowHours`, looking `intervalHours` ahead for the
  /// next trough.
  func writeFeatures(
    into rows: UnsafeMutableBufferPointer<Float>, width: Int, nowHours: Double,
    intervalHours: Double
  ) {
    let referenceRate = Self.referenceDoseMilligrams / referenceDurationHours
    let hasPeripheral = estimator.peripheralCount == 1
    for p in 0..<estimator.patientCount {
      let row = p * width
      let response = estimator.estimatedResponse(patient: p)
      rows[row + VancomycinObservation.estimatedClearanceLitersPerHour] = Float(
        estimator.estimatedValue(patient: p, parameterIndex: 0))
      rows[row + VancomycinObservation.estimatedCentralVolumeLiters] = Float(
        estimator.estimatedValue(patient: p, parameterIndex: 1))
      rows[row + VancomycinObservation.estimatedPeripheralVolumeLiters] =
        hasPeripheral ? Float(estimator.estimatedValue(patient: p, parameterIndex: 3)) : 0
      rows[row + VancomycinObservation.predictedAUC24WithoutDoseMilligramHoursPerLiter] = Float(
        estimator.predictedAUC(patient: p, fromHours: nowHours, toHours: nowHours + 24))
      rows[row + VancomycinObservation.predictedAUC24Per1000MilligramsMilligramHoursPerLiter] =
        Float(
          response.cumulativeAUC(
            rateMilligramsPerHour: referenceRate, durationHours: referenceDurationHours,
            elapsedHours: 24))
      rows[row + VancomycinObservation.predictedNextTroughWithoutDoseMilligramsPerLiter] = Float(
        estimator.predictedConcentration(patient: p, timeHours: nowHours + intervalHours))
      rows[row + VancomycinObservation.predictedNextTroughPer1000MilligramsMilligramsPerLiter] =
        Float(
          response.concentration(
            rateMilligramsPerHour: referenceRate, durationHours: referenceDurationHours,
            elapsedHours: intervalHours))
    }
  }
}
