import Foundation
import TitratePKPD

// Patients built from given covariates, for `titrate simulate` and for
// the stress cohorts of `titrate verify`.
extension LinearDefinition {
  /// Covariates with the model's Cockcroft-Gault creatinine clearance
  /// (after its caps and floors).
  /// - Parameters:
  ///   - ageYears: age in years, > 0.
  ///   - weightKilograms: total body weight in kg, > 0.
  ///   - serumCreatinineMilligramsPerDeciliter: serum creatinine in mg/dL, > 0.
  public func covariates(
    ageYears: Double, weightKilograms: Double, isFemale: Bool,
    serumCreatinineMilligramsPerDeciliter: Double, onHaemodialysis: Bool
  ) -> LinearCovariates {
    LinearPatientSampler(definition: self, cohort: nil).covariates(
      ageYears: ageYears, weightKilograms: weightKilograms, isFemale: isFemale,
      serumCreatinineMilligramsPerDeciliter: serumCreatinineMilligramsPerDeciliter,
      onHaemodialysis: onHaemodialysis)
  }

  /// The typical patient (every eta 0) with the given covariates.
  public func typicalPatient(_ covariates: LinearCovariates) -> LinearPatient {
    LinearPatientSampler(definition: self, cohort: nil).typicalPatient(covariates)
  }

  /// Moves a patient to new covariates and keeps its random effects: each
  /// PK parameter is scaled by the ratio of its typical values after and
  /// before. Exact for log-normal parameters unless a typical-value floor
  /// applies on one side.
  public func patient(_ patient: LinearPatient, movedTo covariates: LinearCovariates)
    -> LinearPatient
  {
    let before = typicalPatient(patient.covariates).parameters
    let after = typicalPatient(covariates).parameters
    var moved = patient.parameters
    moved.clearanceLitersPerHour *= after.clearanceLitersPerHour / before.clearanceLitersPerHour
    moved.centralVolumeLiters *= after.centralVolumeLiters / before.centralVolumeLiters
    for index in moved.intercompartmentalClearancesLitersPerHour.indices {
      moved.intercompartmentalClearancesLitersPerHour[index] *=
        after.intercompartmentalClearancesLitersPerHour[index]
        / before.intercompartmentalClearancesLitersPerHour[index]
      moved.peripheralVolumesLiters[index] *=
        after.peripheralVolumesLiters[index] / before.peripheralVolumesLiters[index]
    }
    if let rate = moved.absorptionRatePerHour, let old = before.absorptionRatePerHour,
      let new = after.absorptionRatePerHour
    {
      moved.absorptionRatePerHour = rate * new / old
    }
    return LinearPatient(covariates: covariates, parameters: moved)
  }

  /// Covariates that some PK parameter of the model depends on.
  public var modelCovariates: Set<CovariateName> {
    Set(model.parameters.named.flatMap { $0.model.covariateEffects.map(\.covariate) })
  }
}

extension LinearEnvironment {
  /// Returns the observation rows of the current state, row-major
  /// (`batchSize x LinearObservation.count(for:)`); use it after
  /// `setPatients`.
  public func currentObservations() -> [Float] { observations() }
}

extension LinearEnvironment {
  /// Each patient's start time of the current cycle's dose since the
  /// episode start, hours.
  public var cycleStartsHours: [Double] {
    cycles.cycleStartStep.map { Double($0) * definition.dosing.simulationStepHours }
  }
}
