import Foundation
import TitratePKPD
import TitrateRandom

/// The covariates of one virtual patient of a linear-kind environment.
public struct LinearCovariates: Sendable, Equatable {
  /// Age in years.
  public var ageYears: Double
  /// Total body weight in kg; the basis of per-kg doses.
  public var weightKilograms: Double
  /// True for a female patient.
  public var isFemale: Bool
  /// Serum creatinine in mg/dL.
  public var serumCreatinineMilligramsPerDeciliter: Double
  /// True for a patient on intermittent haemodialysis.
  public var onHaemodialysis: Bool
  /// Cockcroft-Gault creatinine clearance in mL/min after the model's caps
  /// and floors (`LinearModelDefinition.creatinineClearance`).
  public var creatinineClearanceMillilitersPerMinute: Double

  /// Returns the value of a named covariate (indicators as 0 or 1).
  public func value(of covariate: CovariateName) -> Double {
    switch covariate {
    case .ageYears: ageYears
    case .weightKilograms: weightKilograms
    case .female: isFemale ? 1 : 0
    case .serumCreatinineMilligramsPerDeciliter: serumCreatinineMilligramsPerDeciliter
    case .haemodialysis: onHaemodialysis ? 1 : 0
    case .creatinineClearanceMillilitersPerMinute: creatinineClearanceMillilitersPerMinute
    }
  }
}

/// One virtual patient of a linear-kind environment.
public struct LinearPatient: Sendable, Equatable {
  /// The patient's covariates.
  public var covariates: LinearCovariates
  /// The patient's true PK parameters.
  public var parameters: CompartmentalParameters
}

/// Draws virtual patients for a linear-kind definition: covariates from
/// the population's distributions (in `CovariateDistributions.ordered`
/// order) or from a row of the site's cohort, then etas for every
/// parameter of the model.
struct LinearPatientSampler {
  let model: LinearModelDefinition
  let distributions: CovariateDistributions
  let cohort: PatientCohort?
  private let variability: LogNormalVariability

  /// - Precondition: the definition is validated.
  init(definition: LinearDefinition, cohort: PatientCohort?) {
    model = definition.model
    distributions = definition.population.covariates
    self.cohort = cohort
    variability = definition.model.variability()
  }

  /// Returns covariates with the model's creatinine clearance computed.
  func covariates(
    ageYears: Double, weightKilograms: Double, isFemale: Bool,
    serumCreatinineMilligramsPerDeciliter: Double, onHaemodialysis: Bool
  ) -> LinearCovariates {
    let rule = model.creatinineClearance
    var creatinine = serumCreatinineMilligramsPerDeciliter
    if let floor = rule.serumCreatinineFloorMilligramsPerDeciliter,
      ageYears > (rule.serumCreatinineFloorAboveAgeYears ?? -Double.infinity)
    {
      creatinine = max(creatinine, floor)
    }
    var clearance = cockcroftGaultCreatinineClearance(
      ageYears: ageYears, weightKilograms: weightKilograms,
      serumCreatinineMilligramsPerDeciliter: creatinine, isFemale: isFemale)
    if let cap = rule.maximumMillilitersPerMinute { clearance = min(clearance, cap) }
    if let floor = rule.minimumMillilitersPerMinute { clearance = max(clearance, floor) }
    return LinearCovariates(
      ageYears: ageYears, weightKilograms: weightKilograms, isFemale: isFemale,
      serumCreatinineMilligramsPerDeciliter: serumCreatinineMilligramsPerDeciliter,
      onHaemodialysis: onHaemodialysis, creatinineClearanceMillilitersPerMinute: clearance)
  }

  /// Returns the typical patient (all etas 0) with the given covariates.
  func typicalPatient(_ covariates: LinearCovariates) -> LinearPatient {
    LinearPatient(
      covariates: covariates,
      parameters: model.individualParameters(
        covariates: covariates, etas: [Double](repeating: 0, count: variability.count)))
  }

  /// Draws one patient. The number of draws depends only on the seed, so
  /// a seeded stream gives the same patients every run.
  func samplePatient(using generator: inout Xoshiro256) -> LinearPatient {
    let covariates: LinearCovariates
    if let cohort {
      // One uniform picks the row.
      let count = cohort.rows.count
      let row = cohort.rows[min(Int(generator.nextUniform() * Double(count)), count - 1)]
      covariates = self.covariates(
        ageYears: row.ageYears, weightKilograms: row.weightKilograms, isFemale: row.isFemale,
        serumCreatinineMilligramsPerDeciliter: row.serumCreatinineMilligramsPerDeciliter,
        onHaemodialysis: row.onHaemodialysis)
    } else {
      let age = distributions.ageYears.sample(using: &generator)
      let weight = distributions.weightKilograms.sample(using: &generator)
      let female = distributions.female.sample(using: &generator) >= 0.5
      let creatinine = distributions.serumCreatinineMilligramsPerDeciliter.sample(
        using: &generator)
      let dialysis = distributions.haemodialysis.sample(using: &generator) >= 0.5
      covariates = self.covariates(
        ageYears: age, weightKilograms: weight, isFemale: female,
        serumCreatinineMilligramsPerDeciliter: creatinine, onHaemodialysis: dialysis)
    }
    let etas = variability.sampleEtas(using: &generator)
    return LinearPatient(
      covariates: covariates,
      parameters: model.individualParameters(covariates: covariates, etas: etas))
  }
}
