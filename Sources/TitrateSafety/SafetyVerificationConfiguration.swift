import TitrateEnvironments
/// Settings of a safety verification run: cohort sizes, the seed, which
/// stress profiles and observation perturbations run, and the tolerance
/// of the clinical sanity properties.
public struct SafetyVerificationConfiguration: Sendable, Codable, Equatable {
  /// Virtual patients per cohort, 1-1,000,000. A rate's Wilson interval
  /// half-width is about 2.7 points at 5 % with 256 patients and 0.6 points
  /// with 5000.
  public var patientsPerCohort = 256
  /// Seed of every cohort's patients, noise and perturbations.
  public var seed: UInt64 = 20_301
  /// Covariate profiles; each runs on one site per distinct true PK model
  /// (the first site whose population uses that model).
  public var stressProfiles: [StressProfile] = StressProfile.allCases
  /// Observation perturbations; each runs on every site.
  public var perturbations: [ObservationPerturbation] = [
    .noisyLevels(coefficientOfVariation: 0.3), .missingLevels,
    .extremeValues(magnitude: 1e30), .nonFiniteEntries(fraction: 0.5),
  ]
  /// Observation rows sampled per standard cohort for each clinical sanity
  /// property, 1-100,000.
  public var sanityRowsPerCohort = 256
  /// Largest fraction of sanity comparisons that may raise the dose, in
  /// [0, 1].
  ///
  /// 0 treats the properties as hard. A learned network is not monotone by
  /// construction, so a checkpoint can violate them at a few decision
  /// boundaries. A larger tolerance accepts that, and the report still
  /// shows every violation.
  public var sanityTolerance = 0.0
  /// Thresholds of the predictive shield every cohort runs behind; nil
  /// runs without it.
  public var shield: ShieldDefinition? = nil

  public init() {}

  /// Returns every problem with the settings, each naming the field, the
  /// value and the allowed range; empty when valid.
  public func problems() -> [String] {
    var problems: [String] = []
    if !(1...1_000_000).contains(patientsPerCohort) {
      problems.append("patientsPerCohort is \(patientsPerCohort); use 1-1000000")
    }
    if !(1...100_000).contains(sanityRowsPerCohort) {
      problems.append("sanityRowsPerCohort is \(sanityRowsPerCohort); use 1-100000")
    }
    if !(sanityTolerance >= 0 && sanityTolerance <= 1) {
      problems.append("sanityTolerance is \(sanityTolerance); use a fraction in [0, 1]")
    }
    for perturbation in perturbations {
      switch perturbation {
      case .noisyLevels(let coefficientOfVariation)
      where !(coefficientOfVariation > 0 && coefficientOfVariation <= 10):
        problems.append(
          "noisyLevels coefficientOfVariation is \(coefficientOfVariation); use (0, 10]")
      case .extremeValues(let magnitude) where !(magnitude.isFinite && magnitude >= 1):
        problems.append(
          "extremeValues magnitude is \(magnitude); use a finite value of at least 1")
      case .nonFiniteEntries(let fraction) where !(fraction > 0 && fraction <= 1):
        problems.append("nonFiniteEntries fraction is \(fraction); use (0, 1]")
      default: break
      }
    }
    return problems
  }
}
