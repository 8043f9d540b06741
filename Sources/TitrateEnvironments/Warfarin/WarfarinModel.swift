import Foundation
import TitratePKPD
import TitrateRandom

/// The Hamberg et al. 2007 S-warfarin PK/PD model for a batch of patients,
/// as the right-hand side of `BatchedRungeKutta4`.
///
/// States per patient (amounts in mg of S-warfarin, chain values relative
/// to their pre-treatment level 1):
/// - depot: dDepot/dt = -ka Depot
/// - central: dA1/dt = ka Depot - (CL + Q)/V1 A1 + Q/V2 A2
/// - peripheral: dA2/dt = Q/V1 A1 - Q/V2 A2
/// - fast chain 1..n1: dF1/dt = k1 (1 - E - F1), dFi/dt = k1 (F(i-1) - Fi)
/// - slow chain 1..n2: the same with k2
/// with C = A1 / V1 and E = Emax C^gamma / (EC50^gamma + C^gamma). The
/// INR is BASE + INRmax (1 - F(n1) S(n2))^lambda (Hamberg 2007, Appendix).
/// Amounts are clamped at 0 after each step (see `nonNegativeComponents`)
/// because C^gamma with a non-integer gamma is NaN for C < 0.
public struct WarfarinBatchModel: BatchedRightHandSide {
  /// Component index of the depot amount.
  public static let depot = 0
  /// Component index of the central amount.
  public static let central = 1
  /// Component index of the peripheral amount.
  public static let peripheral = 2
  /// Component index of the first fast-chain compartment.
  public static let fastChainStart = 3

  /// Compartments of the fast chain.
  public let fastChainCompartments: Int
  /// Compartments of the slow chain.
  public let slowChainCompartments: Int
  public var stateCount: Int { 3 + fastChainCompartments + slowChainCompartments }
  /// Component index of the first slow-chain compartment.
  public var slowChainStart: Int { Self.fastChainStart + fastChainCompartments }
  /// Component index of the last fast-chain compartment.
  public var fastChainEnd: Int { slowChainStart - 1 }
  /// Component index of the last slow-chain compartment.
  public var slowChainEnd: Int { stateCount - 1 }
  /// Components clamped at 0: the three drug amounts.
  public static let nonNegativeComponents = [depot, central, peripheral]

  /// The patients' parameters, in batch order.
  public let parameters: [WarfarinParameters]
  private let absorptionRate: [Double]
  private let centralOutRate: [Double]
  private let centralToPeripheralRate: [Double]
  private let peripheralToCentralRate: [Double]
  private let inverseCentralVolume: [Double]
  private let maximumEffect: [Double]
  private let hillCoefficient: [Double]
  private let ec50Powered: [Double]
  private let fastRate: [Double]
  private let slowRate: [Double]

  /// Creates the model for one patient per entry of `parameters`.
  /// - Precondition: chain lengths >= 1 and `parameters` is not empty.
  public init(
    parameters: [WarfarinParameters], fastChainCompartments: Int, slowChainCompartments: Int
  ) {
    precondition(!parameters.isEmpty, "the batch needs at least one patient")
    precondition(
      fastChainCompartments >= 1 && slowChainCompartments >= 1,
      "chains need at least one compartment")
    self.parameters = parameters
    self.fastChainCompartments = fastChainCompartments
    self.slowChainCompartments = slowChainCompartments
    absorptionRate = parameters.map(\.absorptionRatePerHour)
    centralOutRate = parameters.map {
      ($0.clearanceLitersPerHour + $0.intercompartmentalClearanceLitersPerHour)
        / $0.centralVolumeLiters
    }
    centralToPeripheralRate = parameters.map {
      $0.intercompartmentalClearanceLitersPerHour / $0.centralVolumeLiters
    }
    peripheralToCentralRate = parameters.map {
      $0.intercompartmentalClearanceLitersPerHour / $0.peripheralVolumeLiters
    }
    inverseCentralVolume = parameters.map { 1 / $0.centralVolumeLiters }
    maximumEffect = parameters.map(\.maximumEffect)
    hillCoefficient = parameters.map(\.hillCoefficient)
    ec50Powered = parameters.map { pow($0.ec50MilligramsPerLiter, $0.hillCoefficient) }
    fastRate = parameters.map(\.fastChainRatePerHour)
    slowRate = parameters.map(\.slowChainRatePerHour)
  }

  /// Patients in the batch.
  public var patientCount: Int { parameters.count }

  /// Returns the pre-treatment state: no drug, every chain value at 1.
  public func initialState() -> [Double] {
    let n = patientCount
    var state = [Double](repeating: 1, count: stateCount * n)
    for index in 0..<(3 * n) { state[index] = 0 }
    return state
  }

  /// Returns the INR of patient `p` in `state`.
  public func inr(state: UnsafePointer<Double>, patient p: Int) -> Double {
    let n = patientCount
    return parameters[p].inr(
      fastChainEnd: state[fastChainEnd * n + p], slowChainEnd: state[slowChainEnd * n + p])
  }

  /// Returns the central S-warfarin concentration of patient `p`, mg/L.
  public func concentration(state: UnsafePointer<Double>, patient p: Int) -> Double {
    state[Self.central * patientCount + p] * inverseCentralVolume[p]
  }

  public func evaluate(
    timeHours: Double, state x: UnsafePointer<Double>, derivative dx: UnsafeMutablePointer<Double>,
    patientCount n: Int
  ) {
    let fastStart = Self.fastChainStart * n
    let slowStart = slowChainStart * n
    for p in 0..<n {
      let depot = x[p]
      let central = x[n + p]
      let peripheral = x[2 * n + p]
      let absorption = absorptionRate[p] * depot
      dx[p] = -absorption
      dx[n + p] = absorption - centralOutRate[p] * central + peripheralToCentralRate[p] * peripheral
      dx[2 * n + p] = centralToPeripheralRate[p] * central - peripheralToCentralRate[p] * peripheral

      // Inhibition of factor synthesis; a negative trial amount counts as 0.
      let concentration = max(central, 0) * inverseCentralVolume[p]
      var effect = 0.0
      if concentration > 0 {
        let powered = pow(concentration, hillCoefficient[p])
        effect = maximumEffect[p] * powered / (ec50Powered[p] + powered)
      }
      let synthesis = 1 - effect

      let kFast = fastRate[p]
      dx[fastStart + p] = kFast * (synthesis - x[fastStart + p])
      for i in 1..<fastChainCompartments {
        let index = fastStart + i * n + p
        dx[index] = kFast * (x[index - n] - x[index])
      }
      let kSlow = slowRate[p]
      dx[slowStart + p] = kSlow * (synthesis - x[slowStart + p])
      for i in 1..<slowChainCompartments {
        let index = slowStart + i * n + p
        dx[index] = kSlow * (x[index - n] - x[index])
      }
    }
  }
}

/// Draws virtual warfarin patients from a definition's population and
/// model. Draw order per patient: age, weight, height, sex, CYP2C9,
/// VKORC1, then six normal draws for the random effects (CL, V1, V2,
/// EC50, fast MTT, slow MTT), so the stream does not depend on the values.
public struct WarfarinPatientSampler: Sendable {
  /// The definition the patients come from.
  public let definition: WarfarinDefinition
  private let omegas: [Double]

  /// Creates a sampler for a validated definition.
  public init(definition: WarfarinDefinition) {
    self.definition = definition
    let variability = definition.model.betweenSubjectVariability
    omegas = variability.coefficients.map {
      variability.convention.omegaSquared(coefficientOfVariation: $0.1).squareRoot()
    }
  }

  /// Draws one patient.
  public func samplePatient(using generator: inout Xoshiro256) -> WarfarinPatient {
    let population = definition.population
    let age = Self.draw(population.ageYears, &generator)
    let weight = Self.draw(population.weightKilograms, &generator)
    let height = Self.draw(population.heightCentimeters, &generator)
    let female = generator.nextUniform() < population.femaleProbability
    let cyp2c9 = Self.drawGenotype(population.cyp2c9Frequencies, CYP2C9Genotype.self, &generator)
    let vkorc1 = Self.drawGenotype(population.vkorc1Frequencies, VKORC1Genotype.self, &generator)
    let etas = omegas.map { $0 * generator.nextStandardNormal() }
    return WarfarinPatient(
      ageYears: age, weightKilograms: weight, heightCentimeters: height, isFemale: female,
      cyp2c9: cyp2c9, vkorc1: vkorc1,
      parameters: parameters(ageYears: age, cyp2c9: cyp2c9, vkorc1: vkorc1, etas: etas))
  }

  /// Returns a patient's parameters for random effects `etas`: six values
  /// in the order of the type's documentation. Zeros give the typical
  /// patient of that age and genotype.
  public func parameters(
    ageYears: Double, cyp2c9: CYP2C9Genotype, vkorc1: VKORC1Genotype, etas: [Double]
  ) -> WarfarinParameters {
    precondition(etas.count == 6, "expected 6 random effects, got \(etas.count)")
    let model = definition.model
    let ageFactor =
      1 + model.clearanceFractionalChangePerYear * (ageYears - model.clearanceReferenceAgeYears)
    let genotypeFactor = 1 - model.clearanceReductionByCYP2C9[cyp2c9.rawValue]!
    let fastTransitTime = model.fastChainMeanTransitTimeHours * exp(etas[4])
    let slowTransitTime = model.slowChainMeanTransitTimeHours * exp(etas[5])
    return WarfarinParameters(
      absorptionRatePerHour: model.absorptionRatePerHour,
      clearanceLitersPerHour: model.clearanceLitersPerHour * ageFactor * genotypeFactor
        * exp(etas[0]),
      centralVolumeLiters: model.centralVolumeLiters * exp(etas[1]),
      intercompartmentalClearanceLitersPerHour: model.intercompartmentalClearanceLitersPerHour,
      peripheralVolumeLiters: model.peripheralVolumeLiters * exp(etas[2]),
      ec50MilligramsPerLiter: model.ec50MilligramsPerLiterByVKORC1[vkorc1.rawValue]!
        * exp(etas[3]),
      maximumEffect: model.maximumEffect, hillCoefficient: model.hillCoefficient,
      fastChainRatePerHour: model.fastChainRate(meanTransitTimeHours: fastTransitTime),
      slowChainRatePerHour: model.slowChainRate(meanTransitTimeHours: slowTransitTime),
      baselineINR: model.baselineINR, maximumINRIncrease: model.maximumINRIncrease,
      inrExponent: model.inrExponent)
  }

  private static func draw(
    _ distribution: TruncatedNormalDefinition, _ generator: inout Xoshiro256
  ) -> Double {
    TitratePKPD.CovariateDistribution.normal(
      mean: distribution.mean, standardDeviation: distribution.standardDeviation,
      lowerBound: distribution.minimum, upperBound: distribution.maximum
    ).sample(using: &generator)
  }

  private static func drawGenotype<Genotype: RawRepresentable & CaseIterable>(
    _ frequencies: [String: Double], _ type: Genotype.Type, _ generator: inout Xoshiro256
  ) -> Genotype where Genotype.RawValue == String {
    let all = Array(Genotype.allCases)
    let uniform = generator.nextUniform()
    var cumulative = 0.0
    for genotype in all {
      cumulative += frequencies[genotype.rawValue]!
      if uniform < cumulative { return genotype }
    }
    // Round-off can leave the cumulative sum just under 1.
    return all.last { frequencies[$0.rawValue]! > 0 } ?? all[all.count - 1]
  }
}
