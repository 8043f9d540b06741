import Foundation
import TitratePKPD
import TitrateRandom

/// One virtual patient: covariates and true PK parameters.
public struct VirtualPatient: Sendable, Equatable {
  /// Age in years.
  public var ageYears: Double
  /// Total body weight in kg.
  public var weightKilograms: Double
  /// True for a female patient.
  public var isFemale: Bool
  /// Serum creatinine in mg/dL.
  public var serumCreatinineMilligramsPerDeciliter: Double
  /// True for a patient on intermittent haemodialysis.
  public var onHaemodialysis: Bool
  /// True for a patient treated in intensive care.
  public var inIntensiveCare: Bool
  /// True PK parameters (1 or 2 compartments).
  public var parameters: CompartmentalParameters

  public init(
    ageYears: Double, weightKilograms: Double, isFemale: Bool,
    serumCreatinineMilligramsPerDeciliter: Double, onHaemodialysis: Bool,
    inIntensiveCare: Bool = false, parameters: CompartmentalParameters
  ) {
    self.ageYears = ageYears
    self.weightKilograms = weightKilograms
    self.isFemale = isFemale
    self.serumCreatinineMilligramsPerDeciliter = serumCreatinineMilligramsPerDeciliter
    self.onHaemodialysis = onHaemodialysis
    self.inIntensiveCare = inIntensiveCare
    self.parameters = parameters
  }

  /// Cockcroft-Gault creatinine clearance in mL/min from the unadjusted
  /// covariates, as a clinician computes it (no model caps or floors).
  public var creatinineClearanceMillilitersPerMinute: Double {
    cockcroftGaultCreatinineClearance(
      ageYears: ageYears, weightKilograms: weightKilograms,
      serumCreatinineMilligramsPerDeciliter: serumCreatinineMilligramsPerDeciliter,
      isFemale: isFemale)
  }
}

/// Draws virtual patients of one site population: covariates from the
/// population's distributions (independently, in `CovariateDistributions
/// .ordered` order), then parameters from the population's true model with
/// correlated log-normal BSV.
struct PatientSampler {
  let population: SitePopulationDefinition
  let model: PopulationModelDefinition
  private let parameterModels: [(PharmacokineticParameterName, ParameterModelDefinition)]
  private let variability: LogNormalVariability
  /// Covariate rows that replace the population's distributions; nil
  /// samples them.
  let cohort: PatientCohort?
  /// Fraction of patients whose covariates come from `edgeCovariates`
  /// instead of the population's distributions, in [0, 1).
  let edgeFraction: Double
  /// The definition's edge-patient distributions (nil without them).
  let edgeCovariates: CovariateDistributions?

  /// - Precondition: the definition is validated and names the population;
  ///   a positive `edgeFraction` needs the definition's `edgeCovariates`.
  init(
    definition: EnvironmentDefinition, populationName: String, cohort: PatientCohort? = nil,
    edgeFraction: Double = 0
  ) {
    self.cohort = cohort
    self.edgeFraction = edgeFraction
    edgeCovariates = definition.edgeCovariates?.covariates
    precondition(
      edgeFraction == 0 || (edgeFraction > 0 && edgeFraction < 1 && edgeCovariates != nil),
      "edge patients need a fraction in (0, 1) and the definition's edgeCovariates")
    guard let population = definition.populations[populationName],
      let model = definition.models[population.model]
    else { preconditionFailure("population \(populationName) missing from a validated definition") }
    self.population = population
    self.model = model
    parameterModels = model.parameters.present
    let names = parameterModels.map(\.0)
    let correlations = model.correlations.compactMap { correlation -> EtaCorrelation? in
      guard let first = names.firstIndex(of: correlation.first),
        let second = names.firstIndex(of: correlation.second)
      else { return nil }
      return EtaCorrelation(first: first, second: second, coefficient: correlation.coefficient)
    }
    do {
      variability = try LogNormalVariability(
        omegaSquared: parameterModels.map { $0.1.variability?.omegaSquared ?? 0 },
        correlations: correlations)
    } catch {
      preconditionFailure("validated variability was rejected: \(error)")
    }
  }

  /// Draws one patient. Consumes a fixed number of draws per covariate
  /// attempt, so the stream depends only on the seed.
  func samplePatient(using generator: inout Xoshiro256) -> VirtualPatient {
    if let cohort {
      // One uniform picks the row, then the etas: a fixed number of draws.
      let index = min(
        Int(generator.nextUniform() * Double(cohort.rows.count)), cohort.rows.count - 1)
      let row = cohort.rows[index]
      let etas = variability.sampleEtas(using: &generator)
      return VirtualPatient(
        ageYears: row.ageYears, weightKilograms: row.weightKilograms, isFemale: row.isFemale,
        serumCreatinineMilligramsPerDeciliter: row.serumCreatinineMilligramsPerDeciliter,
        onHaemodialysis: row.onHaemodialysis, inIntensiveCare: row.inIntensiveCare,
        parameters: individualParameters(
          ageYears: row.ageYears, weightKilograms: row.weightKilograms, isFemale: row.isFemale,
          serumCreatinineMilligramsPerDeciliter: row.serumCreatinineMilligramsPerDeciliter,
          onHaemodialysis: row.onHaemodialysis, etas: etas))
    }
    // Drawn in `CovariateDistributions.ordered` order. The edge draw comes
    // first and only with a positive fraction, so runs without edge
    // patients keep their streams.
    var covariates = population.covariates
    if edgeFraction > 0, generator.nextUniform() < edgeFraction, let edgeCovariates {
      covariates = edgeCovariates
    }
    let age = covariates.ageYears.sample(using: &generator)
    let weight = covariates.weightKilograms.sample(using: &generator)
    let female = covariates.female.sample(using: &generator) >= 0.5
    var creatinine = covariates.serumCreatinineMilligramsPerDeciliter.sample(using: &generator)
    let dialysis = covariates.haemodialysis.sample(using: &generator) >= 0.5
    if dialysis, let onDialysis = covariates.serumCreatinineOnHaemodialysis {
      creatinine = onDialysis.sample(using: &generator)
    }
    let etas = variability.sampleEtas(using: &generator)
    let parameters = individualParameters(
      ageYears: age, weightKilograms: weight, isFemale: female,
      serumCreatinineMilligramsPerDeciliter: creatinine, onHaemodialysis: dialysis, etas: etas)
    return VirtualPatient(
      ageYears: age, weightKilograms: weight, isFemale: female,
      serumCreatinineMilligramsPerDeciliter: creatinine, onHaemodialysis: dialysis,
      inIntensiveCare: drawIntensiveCare(using: &generator), parameters: parameters)
  }

  /// Draws the care setting: one uniform only for a fraction strictly
  /// between 0 and 1, so populations without a mixture keep their streams.
  func drawIntensiveCare(using generator: inout Xoshiro256) -> Bool {
    let fraction = population.intensiveCareFraction ?? 0
    if fraction <= 0 { return false }
    if fraction >= 1 { return true }
    return generator.nextUniform() < fraction
  }

  /// Computes the model's creatinine clearance in mL/min, caps and floors
  /// applied.
  func modelCreatinineClearance(
    ageYears: Double, weightKilograms: Double, isFemale: Bool,
    serumCreatinineMilligramsPerDeciliter: Double
  ) -> Double {
    model.creatinineClearance.adjustedClearance(
      ageYears: ageYears, weightKilograms: weightKilograms, isFemale: isFemale,
      serumCreatinineMilligramsPerDeciliter: serumCreatinineMilligramsPerDeciliter
    ).millilitersPerMinute
  }

  /// Individual parameters for given covariates and etas (one eta per
  /// present parameter, in `ParameterModels.present` order; zeros give the
  /// typical patient).
  func individualParameters(
    ageYears: Double, weightKilograms: Double, isFemale: Bool,
    serumCreatinineMilligramsPerDeciliter: Double, onHaemodialysis: Bool, etas: [Double]
  ) -> CompartmentalParameters {
    let creatinineClearance = modelCreatinineClearance(
      ageYears: ageYears, weightKilograms: weightKilograms, isFemale: isFemale,
      serumCreatinineMilligramsPerDeciliter: serumCreatinineMilligramsPerDeciliter)
    func value(of covariate: CovariateName) -> Double {
      switch covariate {
      case .ageYears: ageYears
      case .weightKilograms: weightKilograms
      case .female: isFemale ? 1 : 0
      case .serumCreatinineMilligramsPerDeciliter: serumCreatinineMilligramsPerDeciliter
      case .haemodialysis: onHaemodialysis ? 1 : 0
      case .creatinineClearanceMillilitersPerMinute: creatinineClearance
      }
    }

    // Values in `PharmacokineticParameterName` order: CL, V1, Q, V2.
    var values = (0.0, 0.0, 0.0, 0.0)
    for (index, (name, parameter)) in parameterModels.enumerated() {
      var typical = parameter.typicalValue
      if parameter.isPerKilogram { typical *= weightKilograms }
      for effect in parameter.covariateEffects {
        typical *= effect.factor(value(of: effect.covariate))
      }
      if let floor = parameter.typicalValueFloor { typical = max(typical, floor) }
      let individual = typical * Foundation.exp(etas[index])
      switch name {
      case .clearance: values.0 = individual
      case .centralVolume: values.1 = individual
      case .intercompartmentalClearance: values.2 = individual
      case .peripheralVolume: values.3 = individual
      }
    }
    if model.compartments == 2 {
      return CompartmentalParameters(
        clearanceLitersPerHour: values.0, centralVolumeLiters: values.1,
        intercompartmentalClearancesLitersPerHour: [values.2],
        peripheralVolumesLiters: [values.3])
    }
    return CompartmentalParameters(
      clearanceLitersPerHour: values.0, centralVolumeLiters: values.1)
  }
}
