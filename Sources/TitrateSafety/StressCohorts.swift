import TitrateEnvironments

/// Covariates at the edges of and beyond the shipped site populations'
/// ranges. A stress cohort keeps a site's true PK model and replaces some
/// of its covariate distributions with one of these profiles.
///
/// The shipped populations span ages 18-100 years, weights 40-250 kg and
/// serum creatinine 0.3-6 mg/dL (3-12 mg/dL for the obese site's patients
/// on haemodialysis, its 5 %). Edge patients in training (`titrate train
/// --edge-patients`) reach 30-300 kg and 0.3-12 mg/dL without dialysis.
/// Most profiles below lie at the edges of those ranges. Ages 16 and 105
/// lie beyond them. Cockcroft-Gault values quoted below are approximate.
public enum StressProfile: String, Sendable, Codable, CaseIterable {
  /// End-stage renal failure: age 70-90 years, 50-80 kg, serum creatinine
  /// 8-12 mg/dL, so Cockcroft-Gault CrCl is about 3-10 mL/min.
  case renalFailure
  /// Every patient on intermittent haemodialysis, serum creatinine 4-8
  /// mg/dL. Only models with a haemodialysis effect (Goti 2018) change
  /// the parameters beyond the creatinine effect.
  case haemodialysis
  /// Augmented renal clearance: age 18-30 years, 70-100 kg, serum
  /// creatinine 0.3-0.5 mg/dL, so CrCl is about 250-450 mL/min before any
  /// model cap.
  case augmentedClearance
  /// Weight 30-40 kg, below every site's minimum.
  case lowWeight
  /// Weight 250-300 kg, above every site's maximum.
  case highWeight
  /// Half the patients 16 years old, half 105 years old.
  case ageExtremes

  /// Short description for reports.
  public var summary: String {
    switch self {
    case .renalFailure: "renal failure (SCr 8-12 mg/dL, CrCl about 3-10 mL/min)"
    case .haemodialysis: "all on haemodialysis (SCr 4-8 mg/dL)"
    case .augmentedClearance: "augmented clearance (CrCl about 250-450 mL/min)"
    case .lowWeight: "weight 30-40 kg"
    case .highWeight: "weight 250-300 kg"
    case .ageExtremes: "ages 16 and 105 years"
    }
  }

  /// Returns `population` with this profile's covariate distributions.
  public func apply(to population: SitePopulationDefinition) -> SitePopulationDefinition {
    var result = population
    var covariates = result.covariates
    switch self {
    case .renalFailure:
      covariates.ageYears = .uniform(minimum: 70, maximum: 90)
      covariates.weightKilograms = .uniform(minimum: 50, maximum: 80)
      covariates.serumCreatinineMilligramsPerDeciliter = .uniform(minimum: 8, maximum: 12)
      covariates.haemodialysis = .bernoulli(probability: 0)
    case .haemodialysis:
      covariates.serumCreatinineMilligramsPerDeciliter = .uniform(minimum: 4, maximum: 8)
      covariates.haemodialysis = .bernoulli(probability: 1)
      // The profile's creatinine applies to everyone on dialysis here.
      covariates.serumCreatinineOnHaemodialysis = nil
    case .augmentedClearance:
      covariates.ageYears = .uniform(minimum: 18, maximum: 30)
      covariates.weightKilograms = .uniform(minimum: 70, maximum: 100)
      covariates.serumCreatinineMilligramsPerDeciliter = .uniform(minimum: 0.3, maximum: 0.5)
      covariates.haemodialysis = .bernoulli(probability: 0)
    case .lowWeight:
      covariates.weightKilograms = .uniform(minimum: 30, maximum: 40)
    case .highWeight:
      covariates.weightKilograms = .uniform(minimum: 250, maximum: 300)
    case .ageExtremes:
      covariates.ageYears = .categorical(values: [16, 105], probabilities: [0.5, 0.5])
    }
    result.covariates = covariates
    result.description = "\(population.description) Stress profile: \(summary)."
    return result
  }
}

/// A change to the observations shown to the policy during a rollout. The
/// environment itself is unchanged, and the policy's doses still pass
/// through the environment's actuator.
public enum ObservationPerturbation: Sendable, Equatable, Codable {
  /// Every measured level (entries 9, 12, 15 and 18) that is available is
  /// multiplied by a log-normal factor with this coefficient of variation.
  case noisyLevels(coefficientOfVariation: Double)
  /// Every level is reported missing: value, availability flag and hours
  /// since the draw are set to 0, as before the first draw. The MAP
  /// estimate entries (21 to 27) still use the drawn levels.
  case missingLevels
  /// Every entry of every row is replaced by +magnitude, -magnitude, or a
  /// random value whose size is log-uniform between 1e-3 and magnitude,
  /// with a random sign (one third each).
  case extremeValues(magnitude: Float)
  /// In `fraction` of the rows (chosen at random each step) one entry is
  /// replaced by NaN, +infinity or -infinity. The entry and the value
  /// cycle with the row and the decision, so every entry is hit across a
  /// cohort.
  case nonFiniteEntries(fraction: Double)

  /// Short name for reports.
  public var name: String {
    switch self {
    case .noisyLevels: "noisyLevels"
    case .missingLevels: "missingLevels"
    case .extremeValues: "extremeValues"
    case .nonFiniteEntries: "nonFiniteEntries"
    }
  }
}

/// The kind of a cohort, which decides how it is built.
public enum CohortKind: Sendable, Equatable, Codable {
  /// A site's own population, unchanged.
  case standard
  /// A site's population with a stress profile's covariates.
  case stress(StressProfile)
  /// A site's population, with the observations perturbed before they
  /// reach the policy.
  case perturbed(ObservationPerturbation)
}

/// One cohort of the verification: a kind, the site it is built from and
/// its patient count.
public struct CohortSpecification: Sendable, Equatable, Codable {
  public var kind: CohortKind
  /// The site whose population (and model) the cohort starts from.
  public var site: VerifiedSite
  /// Virtual patients, each simulated for one episode.
  public var patientCount: Int

  public init(kind: CohortKind, site: VerifiedSite, patientCount: Int) {
    self.kind = kind
    self.site = site
    self.patientCount = patientCount
  }

  /// Name used in reports: `site icu_arc`, `renalFailure on icu_arc`,
  /// `noisyLevels on obese`.
  public var name: String {
    switch kind {
    case .standard: "site \(site.name)"
    case .stress(let profile): "\(profile.rawValue) on \(site.name)"
    case .perturbed(let perturbation): "\(perturbation.name) on \(site.name)"
    }
  }

  /// Returns the definition and population name that the cohort's
  /// environment is built from (a stress cohort adds a population).
  func environmentSource(_ definition: EnvironmentDefinition)
    -> (definition: EnvironmentDefinition, population: String)
  {
    guard case .stress(let profile) = kind,
      let base = definition.populations[site.population]
    else { return (definition, site.population) }
    var changed = definition
    let population = "\(site.population)+\(profile.rawValue)"
    changed.populations[population] = profile.apply(to: base)
    return (changed, population)
  }
}
