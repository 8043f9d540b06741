import Foundation
import TitratePKPD
import TitrateRandom

/// One virtual patient: covariates, individual Schnider parameters and
/// individual BIS response.
public struct PropofolPatient: Sendable, Equatable {
  /// Age, years.
  public var ageYears: Double
  /// Total body weight, kg (infusion rates are per kg of it).
  public var weightKilograms: Double
  /// Height, cm.
  public var heightCentimeters: Double
  /// Sex, for the lean-body-mass formula.
  public var isFemale: Bool
  /// Individual PK parameters.
  public var pharmacokinetics: PropofolPharmacokineticParameters
  /// Individual BIS response.
  public var bis: SigmoidEmaxBIS

  /// Creates a patient from its parts.
  public init(
    ageYears: Double, weightKilograms: Double, heightCentimeters: Double, isFemale: Bool,
    pharmacokinetics: PropofolPharmacokineticParameters, bis: SigmoidEmaxBIS
  ) {
    self.ageYears = ageYears
    self.weightKilograms = weightKilograms
    self.heightCentimeters = heightCentimeters
    self.isFemale = isFemale
    self.pharmacokinetics = pharmacokinetics
    self.bis = bis
  }
}

/// Errors from building a patient.
public enum PropofolPatientError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The covariates give a non-positive V2, CL1 or CL2 in the Schnider model.
  case covariatesOutsideModel(ageYears: Double, weightKilograms: Double, heightCentimeters: Double)

  public var description: String {
    switch self {
    case .covariatesOutsideModel(let age, let weight, let height):
      return "age \(format(age)) years, weight \(format(weight)) kg, height \(format(height)) cm "
        + "give a non-positive V2, CL1 or CL2 in the Schnider model; use adult covariates "
        + "(age below about 100 years) or switch the lean-body-mass formula"
    }
  }
}

/// Draws virtual propofol patients from a definition. Draw order per
/// patient: age, weight, height, sex, then six normal draws for the random
/// effects (CL1, V2, V3, ke0, Ce50, gamma). With
/// `rejectWeightsPastLeanBodyMassPeak` set, all of them are redrawn while
/// the weight is past the James peak.
public struct PropofolPatientSampler: Sendable {
  /// The definition the patients come from.
  public let definition: PropofolDefinition
  private let omegas: [Double]

  /// Creates a sampler for a validated definition.
  public init(definition: PropofolDefinition) {
    self.definition = definition
    omegas = definition.variability.coefficients.map { log1p($0.1 * $0.1).squareRoot() }
  }

  /// Builds a patient from covariates and random effects (six values in
  /// the sampler's order; zeros give the typical patient).
  /// - Throws: `PropofolPatientError` when the covariates leave the model.
  public func patient(
    ageYears age: Double, weightKilograms weight: Double, heightCentimeters height: Double,
    isFemale: Bool, etas: [Double] = [0, 0, 0, 0, 0, 0]
  ) throws(PropofolPatientError) -> PropofolPatient {
    precondition(etas.count == 6, "expected 6 random effects, got \(etas.count)")
    let typical: PropofolPharmacokineticParameters?
    switch definition.pharmacokineticModel {
    case .schnider:
      typical = definition.model.parameters(
        ageYears: age, weightKilograms: weight, heightCentimeters: height, isFemale: isFemale)
    case .eleveld:
      typical = definition.eleveld.parameters(
        ageYears: age, weightKilograms: weight, heightCentimeters: height, isFemale: isFemale)
    }
    guard var pk = typical else {
      throw .covariatesOutsideModel(
        ageYears: age, weightKilograms: weight, heightCentimeters: height)
    }
    pk.clearanceLitersPerMinute *= exp(etas[0])
    pk.fastPeripheralVolumeLiters *= exp(etas[1])
    pk.slowPeripheralVolumeLiters *= exp(etas[2])
    pk.effectSiteRatePerMinute *= exp(etas[3])
    var bis = definition.bis
    bis.ce50MilligramsPerLiter *= exp(etas[4])
    bis.hillCoefficient *= exp(etas[5])
    return PropofolPatient(
      ageYears: age, weightKilograms: weight, heightCentimeters: height, isFemale: isFemale,
      pharmacokinetics: pk, bis: bis)
  }

  /// Draws one patient.
  public func samplePatient(using generator: inout Xoshiro256) -> PropofolPatient {
    let population = definition.population
    // The James peak only matters where CL1 uses the James LBM.
    let formula =
      definition.pharmacokineticModel == .schnider
      ? definition.model.leanBodyMassFormula : .janmahasatian
    while true {
      let age = Self.draw(population.ageYears, &generator)
      let weight = Self.draw(population.weightKilograms, &generator)
      let height = Self.draw(population.heightCentimeters, &generator)
      let female = generator.nextUniform() < population.femaleProbability
      let etas = omegas.map { $0 * generator.nextStandardNormal() }
      let peak = formula.peakWeightKilograms(heightCentimeters: height, isFemale: female)
      if population.rejectWeightsPastLeanBodyMassPeak, weight > peak { continue }
      // With the published constants, V2 and CL2 stay positive up to the
      // file's age limit of 95 years, so only edited model constants can
      // lead to a redraw here.
      if let patient = try? patient(
        ageYears: age, weightKilograms: weight, heightCentimeters: height, isFemale: female,
        etas: etas)
      {
        return patient
      }
    }
  }

  private static func draw(
    _ distribution: TruncatedNormalDefinition, _ generator: inout Xoshiro256
  ) -> Double {
    TitratePKPD.CovariateDistribution.normal(
      mean: distribution.mean, standardDeviation: distribution.standardDeviation,
      lowerBound: distribution.minimum, upperBound: distribution.maximum
    ).sample(using: &generator)
  }
}
