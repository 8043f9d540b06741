import Foundation

/// CYP2C9 diplotype for the *1, *2 and *3 alleles. *2 and *3 reduce the
/// clearance of S-warfarin (Hamberg et al. 2007, Table 2).
public enum CYP2C9Genotype: String, CaseIterable, Codable, Sendable, Comparable {
  case star1Star1 = "*1/*1"
  case star1Star2 = "*1/*2"
  case star1Star3 = "*1/*3"
  case star2Star2 = "*2/*2"
  case star2Star3 = "*2/*3"
  case star3Star3 = "*3/*3"

  /// Position in `allCases` (the one-hot index in observations).
  public var index: Int { Self.allCases.firstIndex(of: self)! }

  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.index < rhs.index }
}

/// VKORC1 -1639G>A (rs9923231) genotype. Each A allele lowers the EC50 of
/// S-warfarin, so carriers need lower doses (Hamberg et al. 2007, Table 4).
public enum VKORC1Genotype: String, CaseIterable, Codable, Sendable, Comparable {
  case gg = "GG"
  case ga = "GA"
  case aa = "AA"

  /// Position in `allCases` (the one-hot index in observations).
  public var index: Int { Self.allCases.firstIndex(of: self)! }

  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.index < rhs.index }
}

/// One virtual warfarin patient: covariates, genotypes and the individual
/// model parameters (typical values with covariate effects and
/// between-subject variability applied).
public struct WarfarinPatient: Sendable, Equatable {
  /// Age, years.
  public var ageYears: Double
  /// Total body weight, kg.
  public var weightKilograms: Double
  /// Height, cm (used by the IWPC dosing equations only).
  public var heightCentimeters: Double
  /// Sex, recorded for reports; the Hamberg model has no sex effect.
  public var isFemale: Bool
  /// CYP2C9 diplotype.
  public var cyp2c9: CYP2C9Genotype
  /// VKORC1 -1639G>A genotype.
  public var vkorc1: VKORC1Genotype
  /// Individual model parameters.
  public var parameters: WarfarinParameters

  /// Creates a patient from its covariates and parameters.
  public init(
    ageYears: Double, weightKilograms: Double, heightCentimeters: Double, isFemale: Bool,
    cyp2c9: CYP2C9Genotype, vkorc1: VKORC1Genotype, parameters: WarfarinParameters
  ) {
    self.ageYears = ageYears
    self.weightKilograms = weightKilograms
    self.heightCentimeters = heightCentimeters
    self.isFemale = isFemale
    self.cyp2c9 = cyp2c9
    self.vkorc1 = vkorc1
    self.parameters = parameters
  }
}

/// Individual parameters of the Hamberg S-warfarin PK/PD model. PK values
/// are apparent oral values (divided by the unknown bioavailability).
public struct WarfarinParameters: Sendable, Equatable {
  /// First-order absorption rate ka, 1/h.
  public var absorptionRatePerHour: Double
  /// Apparent S-warfarin clearance CL/F, L/h.
  public var clearanceLitersPerHour: Double
  /// Apparent central volume V1/F, L.
  public var centralVolumeLiters: Double
  /// Apparent intercompartmental clearance Q/F, L/h.
  public var intercompartmentalClearanceLitersPerHour: Double
  /// Apparent peripheral volume V2/F, L.
  public var peripheralVolumeLiters: Double
  /// S-warfarin concentration giving half the maximum effect, mg/L.
  public var ec50MilligramsPerLiter: Double
  /// Maximum fractional inhibition of factor synthesis, in (0, 1].
  public var maximumEffect: Double
  /// Hill coefficient (sigmoidicity) gamma of the Emax model.
  public var hillCoefficient: Double
  /// Transit rate of each compartment of the fast chain, 1/h.
  public var fastChainRatePerHour: Double
  /// Transit rate of each compartment of the slow chain, 1/h.
  public var slowChainRatePerHour: Double
  /// INR before treatment.
  public var baselineINR: Double
  /// INRmax: INR increase when both chain ends reach 0.
  public var maximumINRIncrease: Double
  /// Exponent lambda of the INR equation.
  public var inrExponent: Double

  /// Creates a parameter set; `WarfarinModel` checks it.
  public init(
    absorptionRatePerHour: Double, clearanceLitersPerHour: Double, centralVolumeLiters: Double,
    intercompartmentalClearanceLitersPerHour: Double, peripheralVolumeLiters: Double,
    ec50MilligramsPerLiter: Double, maximumEffect: Double, hillCoefficient: Double,
    fastChainRatePerHour: Double, slowChainRatePerHour: Double, baselineINR: Double,
    maximumINRIncrease: Double, inrExponent: Double
  ) {
    self.absorptionRatePerHour = absorptionRatePerHour
    self.clearanceLitersPerHour = clearanceLitersPerHour
    self.centralVolumeLiters = centralVolumeLiters
    self.intercompartmentalClearanceLitersPerHour = intercompartmentalClearanceLitersPerHour
    self.peripheralVolumeLiters = peripheralVolumeLiters
    self.ec50MilligramsPerLiter = ec50MilligramsPerLiter
    self.maximumEffect = maximumEffect
    self.hillCoefficient = hillCoefficient
    self.fastChainRatePerHour = fastChainRatePerHour
    self.slowChainRatePerHour = slowChainRatePerHour
    self.baselineINR = baselineINR
    self.maximumINRIncrease = maximumINRIncrease
    self.inrExponent = inrExponent
  }

  /// Steady-state S-warfarin concentration, mg/L, under a daily
  /// S-warfarin dose of `sWarfarinMilligramsPerDay`: the mean over a
  /// dosing interval, (dose / 24 h) / CL, for any linear PK model.
  public func averageSteadyStateConcentration(sWarfarinMilligramsPerDay: Double) -> Double {
    sWarfarinMilligramsPerDay / 24 / clearanceLitersPerHour
  }

  /// Inhibition E(C) = Emax C^gamma / (EC50^gamma + C^gamma) at
  /// concentration `concentrationMilligramsPerLiter` (clamped at 0).
  public func effect(concentrationMilligramsPerLiter: Double) -> Double {
    let concentration = max(concentrationMilligramsPerLiter, 0)
    guard concentration > 0 else { return 0 }
    let powered = pow(concentration, hillCoefficient)
    return maximumEffect * powered / (pow(ec50MilligramsPerLiter, hillCoefficient) + powered)
  }

  /// INR = BASE + INRmax (1 - A_fast A_slow)^lambda from the amounts at
  /// the ends of the two chains (both 1 before treatment).
  public func inr(fastChainEnd: Double, slowChainEnd: Double) -> Double {
    let deficit = max(1 - fastChainEnd * slowChainEnd, 0)
    return baselineINR + maximumINRIncrease * pow(deficit, inrExponent)
  }
}
