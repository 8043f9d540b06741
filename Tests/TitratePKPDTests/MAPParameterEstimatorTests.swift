import Foundation
import Testing
import TitrateRandom

@testable import TitratePKPD

@Suite struct MAPParameterEstimatorTests {
  /// Goti 2018 typical values for 70 kg and CrCl 120 mL/min, with its BSV
  /// (CV 39.8 %, 81.6 %, none on Q, 57.1 %) and residual error.
  static let typical = CompartmentalParameters(
    clearanceLitersPerHour: 4.5, centralVolumeLiters: 58.4,
    intercompartmentalClearancesLitersPerHour: [6.5], peripheralVolumesLiters: [38.4])
  static let variability = try! LogNormalVariability(
    coefficientsOfVariation: [0.398, 0.816, 0, 0.571])
  static let residualError = ResidualErrorModel(
    additiveMilligramsPerLiter: 3.4, proportionalFraction: 0.227)
  /// Dose times (h) of a q12h course of 1500 mg over 1.5 h.
  static let doseTimes = [0.0, 12, 24, 36, 48, 60]

  static func twoCompartmentEstimator(
    patients: Int = 1, error: ResidualErrorModel = residualError, iterations: Int = 8
  ) throws -> MAPParameterEstimator {
    var configuration = MAPEstimatorConfiguration()
    configuration.iterationsPerUpdate = iterations
    let estimator = try MAPParameterEstimator(
      patientCount: patients, peripheralCount: 1, variability: variability,
      residualError: error, maximumInfusionCount: 8, maximumLevelCount: 40,
      configuration: configuration)
    for patient in 0..<patients { try estimator.resetPatient(patient, typical: typical) }
    return estimator
  }

  /// Individual parameters of `typical` with the given etas.
  static func individual(_ etas: [Double]) -> CompartmentalParameters {
    CompartmentalParameters(
      clearanceLitersPerHour: 4.5 * exp(etas[0]), centralVolumeLiters: 58.4 * exp(etas[1]),
      intercompartmentalClearancesLitersPerHour: [6.5 * exp(etas[2])],
      peripheralVolumesLiters: [38.4 * exp(etas[3])])
  }

  /// Records the q12h course of `doseTimes` for one patient.
  static func dose(_ estimator: MAPParameterEstimator, patient: Int = 0) {
    for start in doseTimes {
      estimator.addInfusion(
        patient: patient, startHours: start, durationHours: 1.5, doseMilligrams: 1500)
    }
  }

  /// Returns the concentration of that course at `time` for `parameters`.
  static func trueConcentration(_ parameters: CompartmentalParameters, at time: Double)
    -> Double
  {
    let response = InfusionResponse(parameters: parameters)
    return doseTimes.reduce(0) {
      $0
        + response.concentration(
          rateMilligramsPerHour: 1000, durationHours: 1.5, elapsedHours: time - $1)
    }
  }

  @Test func noLevelsGivesPrior() throws {
    let estimator = try Self.twoCompartmentEstimator(patients: 2)
    Self.dose(estimator)
    estimator.update()
    #expect(estimator.estimatedEtas(patient: 0) == [0, 0, 0, 0])
    #expect(estimator.estimatedParameters(patient: 0) == Self.typical)
    #expect(estimator.objective(patient: 0, etas: [0, 0, 0, 0]) == 0)
  }

  @Test func recoversEtasFromNoiseFreeLevels() throws {
    let trueEtas = [0.6, -0.4, 0, 0.3]
    let truth = Self.individual(trueEtas)
    // A tiny error model makes the data dominate the prior.
    let error = ResidualErrorModel(additiveMilligramsPerLiter: 0.001, proportionalFraction: 0.001)
    let estimator = try Self.twoCompartmentEstimator(error: error, iterations: 50)
    Self.dose(estimator)
    for time in stride(from: 0.5, through: 71.5, by: 2.5) {
      estimator.addLevel(
        patient: 0, timeHours: time,
        concentrationMilligramsPerLiter: Self.trueConcentration(truth, at: time))
    }
    estimator.update()
    let estimate = estimator.estimatedEtas(patient: 0)
    for index in [0, 1, 3] {
      #expect(abs(estimate[index] - trueEtas[index]) < 1e-3, "eta \(index): \(estimate)")
    }
    #expect(estimate[2] == 0, "Q has no variability, so its eta stays 0")
  }

  /// A one-compartment model with two etas, checked against a brute-force
  /// grid search of the same objective.
  @Test(arguments: [
    (0.5, -0.3, 1 as UInt64), (-0.8, 0.4, 2), (0.1, 0.9, 3), (0.0, 0.0, 4),
  ])
  func matchesGridMinimum(clearanceEta: Double, volumeEta: Double, seed: UInt64) throws {
    let variability = try LogNormalVariability(
      omegaSquared: [0.08, 0.13], correlations: [EtaCorrelation(first: 0, second: 1, coefficient: 0.23)])
    let error = ResidualErrorModel(additiveMilligramsPerLiter: 3.52, proportionalFraction: 0.1)
    var configuration = MAPEstimatorConfiguration()
    configuration.iterationsPerUpdate = 30
    let estimator = try MAPParameterEstimator(
      patientCount: 1, peripheralCount: 0, variability: variability, residualError: error,
      maximumInfusionCount: 4, maximumLevelCount: 4, configuration: configuration)
    let typical = CompartmentalParameters(clearanceLitersPerHour: 6.48, centralVolumeLiters: 63.7)
    try estimator.resetPatient(0, typical: typical)
    let truth = InfusionResponse(
      clearanceLitersPerHour: 6.48 * exp(clearanceEta), centralVolumeLiters: 63.7 * exp(volumeEta))
    for start in [0.0, 12] {
      estimator.addInfusion(patient: 0, startHours: start, durationHours: 1, doseMilligrams: 1000)
    }
    var generator = Xoshiro256(seed: seed)
    for time in [2.0, 11.5, 14, 23.5] {
      var value = 0.0
      for start in [0.0, 12] {
        value += truth.concentration(
          rateMilligramsPerHour: 1000, durationHours: 1, elapsedHours: time - start)
      }
      let measured = error.measure(concentrationMilligramsPerLiter: value, using: &generator)
      estimator.addLevel(
        patient: 0, timeHours: time,
        concentrationMilligramsPerLiter: measured.valueMilligramsPerLiter)
    }
    estimator.update()
    let estimate = estimator.estimatedEtas(patient: 0)

    // Grid of spacing 0.005 over [-1.5, 1.5]^2, then the best cell.
    var best = (objective: Double.infinity, etas: [0.0, 0.0])
    let spacing = 0.005
    for i in -300...300 {
      for j in -300...300 {
        let candidate = [Double(i) * spacing, Double(j) * spacing]
        let value = estimator.objective(patient: 0, etas: candidate)
        if value < best.objective { best = (value, candidate) }
      }
    }
    let estimateObjective = estimator.objective(patient: 0, etas: estimate)
    #expect(estimateObjective <= best.objective + 1e-9)
    #expect(abs(estimate[0] - best.etas[0]) <= spacing, "\(estimate) vs \(best.etas)")
    #expect(abs(estimate[1] - best.etas[1]) <= spacing, "\(estimate) vs \(best.etas)")
  }

  @Test func correlatedPriorUsesInverseCovariance() throws {
    let variability = try LogNormalVariability(
      omegaSquared: [0.04, 0.09], correlations: [EtaCorrelation(first: 0, second: 1, coefficient: 0.5)])
    let estimator = try MAPParameterEstimator(
      patientCount: 1, peripheralCount: 0, variability: variability,
      residualError: Self.residualError, maximumInfusionCount: 1, maximumLevelCount: 1)
    // Covariance [[0.04, 0.03], [0.03, 0.09]], determinant 0.0027.
    let eta = [0.2, -0.1]
    let expected =
      (0.09 * eta[0] * eta[0] - 2 * 0.03 * eta[0] * eta[1] + 0.04 * eta[1] * eta[1]) / 0.0027
    let objective = estimator.objective(patient: 0, etas: eta)
    #expect(abs(objective - expected) <= 1e-12 * expected)
  }

  @Test func estimatesAreDeterministic() throws {
    func run() throws -> [Double] {
      let estimator = try Self.twoCompartmentEstimator(patients: 3)
      for patient in 0..<3 {
        Self.dose(estimator, patient: patient)
        for (index, time) in [1.5, 11.5, 13.5, 23.5].enumerated() {
          estimator.addLevel(
            patient: patient, timeHours: time,
            concentrationMilligramsPerLiter: Double(10 + 3 * patient + index))
        }
      }
      estimator.update()
      return (0..<3).flatMap { estimator.estimatedEtas(patient: $0) }
    }
    #expect(try run() == run())
  }

  @Test func batchEqualsPatientsAlone() throws {
    let batch = try Self.twoCompartmentEstimator(patients: 2)
    let alone = try Self.twoCompartmentEstimator(patients: 1)
    Self.dose(batch, patient: 0)
    Self.dose(batch, patient: 1)
    Self.dose(alone)
    batch.addLevel(patient: 0, timeHours: 3, concentrationMilligramsPerLiter: 30)
    batch.addLevel(patient: 1, timeHours: 11.5, concentrationMilligramsPerLiter: 8)
    alone.addLevel(patient: 0, timeHours: 11.5, concentrationMilligramsPerLiter: 8)
    batch.update()
    alone.update()
    #expect(batch.estimatedEtas(patient: 1) == alone.estimatedEtas(patient: 0))
  }

  @Test func extremeLevelsStayFiniteAndBounded() throws {
    let error = ResidualErrorModel(additiveMilligramsPerLiter: 0, proportionalFraction: 0)
    let estimator = try Self.twoCompartmentEstimator(patients: 3, error: error, iterations: 20)
    Self.dose(estimator, patient: 0)
    Self.dose(estimator, patient: 1)
    estimator.addLevel(patient: 0, timeHours: 2, concentrationMilligramsPerLiter: 1e9)
    estimator.addLevel(patient: 1, timeHours: 11, concentrationMilligramsPerLiter: 0)
    // Patient 2: a level without any infusion.
    estimator.addLevel(patient: 2, timeHours: 5, concentrationMilligramsPerLiter: 20)
    estimator.update()
    for patient in 0..<3 {
      let etas = estimator.estimatedEtas(patient: patient)
      let bounds = Self.variability.omegaSquared.map { 8 * $0.squareRoot() }
      for (eta, bound) in zip(etas, bounds) {
        #expect(eta.isFinite && abs(eta) <= bound, "patient \(patient): \(etas)")
      }
      let concentration = estimator.predictedConcentration(patient: patient, timeHours: 12)
      #expect(concentration.isFinite)
    }
  }

  @Test func levelsMoveClearanceTheRightWay() throws {
    // Troughs above the typical prediction mean a lower clearance.
    let estimator = try Self.twoCompartmentEstimator(patients: 2)
    Self.dose(estimator, patient: 0)
    Self.dose(estimator, patient: 1)
    let typicalTrough = Self.trueConcentration(Self.typical, at: 23.5)
    estimator.addLevel(patient: 0, timeHours: 23.5, concentrationMilligramsPerLiter: 3 * typicalTrough)
    estimator.addLevel(
      patient: 1, timeHours: 23.5, concentrationMilligramsPerLiter: typicalTrough / 3)
    estimator.update()
    #expect(estimator.estimatedEtas(patient: 0)[0] < -0.1)
    #expect(estimator.estimatedEtas(patient: 1)[0] > 0.1)
  }

  @Test func predictedAUCMatchesResponse() throws {
    let estimator = try Self.twoCompartmentEstimator()
    Self.dose(estimator)
    let response = InfusionResponse(parameters: Self.typical)
    let expected = Self.doseTimes.reduce(0.0) {
      $0
        + response.cumulativeAUC(
          rateMilligramsPerHour: 1000, durationHours: 1.5, elapsedHours: 48 - $1)
        - response.cumulativeAUC(
          rateMilligramsPerHour: 1000, durationHours: 1.5, elapsedHours: 24 - $1)
    }
    let auc = estimator.predictedAUC(patient: 0, fromHours: 24, toHours: 48)
    #expect(abs(auc - expected) <= 1e-12 * expected)
  }

  @Test func rejectsWrongEtaCount() {
    #expect(throws: PharmacokineticError.self) {
      _ = try MAPParameterEstimator(
        patientCount: 1, peripheralCount: 1,
        variability: try LogNormalVariability(omegaSquared: [0.1, 0.1]),
        residualError: Self.residualError, maximumInfusionCount: 1, maximumLevelCount: 1)
    }
  }

  @Test func rejectsStructureMismatch() throws {
    let estimator = try Self.twoCompartmentEstimator()
    #expect(throws: PharmacokineticError.self) {
      try estimator.resetPatient(
        0, typical: CompartmentalParameters(clearanceLitersPerHour: 4, centralVolumeLiters: 50))
    }
  }
}
