import Foundation

/// The rule that sets each compartment's rate from a chain's mean transit
/// time MTT.
public enum TransitRateConvention: String, CaseIterable, Codable, Sendable {
  /// k = 1 / MTT for every compartment: MTT is the transit time of one
  /// compartment, and a chain of n compartments delays by n MTT.
  case perCompartment
  /// k = n / MTT: MTT is the transit time of the whole chain of n
  /// compartments.
  case wholeChain

  public init(from decoder: any Decoder) throws {
    self = try decodeKeyword(Self.self, from: decoder)
  }
}

/// The conversion of a reported between-subject coefficient of variation
/// to the variance omega^2 of the log-normal random effect. Public Hamberg 2007
/// implementations differ here; Docs/environments/warfarin.md compares them.
public enum CoefficientOfVariationConvention: String, CaseIterable, Codable, Sendable {
  /// omega^2 = ln(1 + CV^2): the CV is that of the log-normal parameter.
  case logNormal
  /// omega = CV: the NONMEM habit of reporting sqrt(omega^2) as "CV".
  case omegaEqualsCoefficientOfVariation
  /// omega^2 = CV: the reported number read as a variance (about twice
  /// the spread of the other two for CV 0.31).
  case omegaSquaredEqualsCoefficientOfVariation

  public init(from decoder: any Decoder) throws {
    self = try decodeKeyword(Self.self, from: decoder)
  }

  /// Returns omega^2 for coefficient of variation `cv` (a fraction).
  public func omegaSquared(coefficientOfVariation cv: Double) -> Double {
    switch self {
    case .logNormal: return log1p(cv * cv)
    case .omegaEqualsCoefficientOfVariation: return cv * cv
    case .omegaSquaredEqualsCoefficientOfVariation: return cv
    }
  }
}

/// Between-subject variability of the Hamberg model: log-normal, with
/// independent random effects (the paper tabulates no covariances).
public struct WarfarinVariabilityDefinition: Codable, Sendable, Equatable {
  /// Conversion of the CVs below to omega^2.
  public var convention: CoefficientOfVariationConvention
  /// CV of CL/F, fraction (0.31 for 31 %); 0 turns it off. Range [0, 3].
  public var clearance: Double
  /// CV of V1/F, fraction.
  public var centralVolume: Double
  /// CV of V2/F, fraction.
  public var peripheralVolume: Double
  /// CV of EC50, fraction.
  public var ec50: Double
  /// CV of the fast chain's MTT, fraction.
  public var fastChainMeanTransitTime: Double
  /// CV of the slow chain's MTT, fraction.
  public var slowChainMeanTransitTime: Double

  /// The CVs by field name, in a fixed order (the order of the etas).
  var coefficients: [(String, Double)] {
    [
      ("clearance", clearance), ("centralVolume", centralVolume),
      ("peripheralVolume", peripheralVolume), ("ec50", ec50),
      ("fastChainMeanTransitTime", fastChainMeanTransitTime),
      ("slowChainMeanTransitTime", slowChainMeanTransitTime),
    ]
  }

  func validate(path: String, _ issues: inout IssueCollector) {
    for (name, value) in coefficients {
      issues.requireRange(
        value, jsonPath(path, name), 0, 3, unit: "(fraction: 0.3 means 30 %)",
        fix: "Give the CV as a fraction, or 0 for no variability.")
    }
  }
}

/// Constants of the Hamberg et al. 2007 S-warfarin PK/PD model.
public struct WarfarinModelDefinition: Codable, Sendable, Equatable {
  /// Fraction of the racemic tablet dose that is S-warfarin, (0, 1]; 0.5.
  public var sEnantiomerFraction: Double
  /// Extra factor on the S-warfarin dose, (0, 1]. 1 when CL, V1, Q and V2
  /// are apparent oral values (CL/F), as in Hamberg 2007.
  public var extraBioavailability: Double
  /// Absorption rate ka, 1/h, (0, 50].
  public var absorptionRatePerHour: Double
  /// CL/F of a CYP2C9 *1/*1 patient at the reference age, L/h.
  public var clearanceLitersPerHour: Double
  /// Age at which `clearanceLitersPerHour` applies, years.
  public var clearanceReferenceAgeYears: Double
  /// Fractional change of CL per year above the reference age
  /// (-0.0091: 0.91 % lower per year), in [-0.05, 0.05].
  public var clearanceFractionalChangePerYear: Double
  /// Fractional CL reduction by CYP2C9 diplotype, in [0, 1); 0 for *1/*1.
  public var clearanceReductionByCYP2C9: [String: Double]
  /// V1/F, L.
  public var centralVolumeLiters: Double
  /// Q/F, L/h.
  public var intercompartmentalClearanceLitersPerHour: Double
  /// V2/F, L.
  public var peripheralVolumeLiters: Double
  /// Emax, maximum fractional inhibition, (0, 1].
  public var maximumEffect: Double
  /// Hill coefficient gamma, (0, 10].
  public var hillCoefficient: Double
  /// EC50 by VKORC1 -1639 genotype, mg/L of S-warfarin.
  public var ec50MilligramsPerLiterByVKORC1: [String: Double]
  /// Compartments of the fast chain (6 in Hamberg 2007), 1-20.
  public var fastChainCompartments: Int
  /// MTT of the fast chain, h.
  public var fastChainMeanTransitTimeHours: Double
  /// Compartments of the slow chain (1 in Hamberg 2007), 1-20.
  public var slowChainCompartments: Int
  /// MTT of the slow chain, h.
  public var slowChainMeanTransitTimeHours: Double
  /// Rule that sets each compartment's rate from MTT.
  public var transitRateConvention: TransitRateConvention
  /// INR before treatment, [0.5, 2].
  public var baselineINR: Double
  /// INRmax, the INR increase at full depletion of both chains, (0, 50].
  public var maximumINRIncrease: Double
  /// Exponent lambda of the INR equation, (0, 20].
  public var inrExponent: Double
  /// Between-subject variability.
  public var betweenSubjectVariability: WarfarinVariabilityDefinition
  /// SD of the additive residual error on log(INR) (0.0325: about 3.25 %
  /// proportional), [0, 1].
  public var inrResidualLogStandardDeviation: Double

  /// Rate of each fast-chain compartment for mean transit time `mtt`, 1/h.
  func fastChainRate(meanTransitTimeHours mtt: Double) -> Double {
    transitRateConvention == .perCompartment ? 1 / mtt : Double(fastChainCompartments) / mtt
  }

  /// Rate of each slow-chain compartment for mean transit time `mtt`, 1/h.
  func slowChainRate(meanTransitTimeHours mtt: Double) -> Double {
    transitRateConvention == .perCompartment ? 1 / mtt : Double(slowChainCompartments) / mtt
  }

  func validate(path: String, _ issues: inout IssueCollector) {
    func range(_ value: Double, _ key: String, _ low: Double, _ high: Double, _ unit: String) {
      issues.requireRange(value, jsonPath(path, key), low, high, unit: unit, lowOpen: true)
    }
    range(sEnantiomerFraction, "sEnantiomerFraction", 0, 1, "")
    range(extraBioavailability, "extraBioavailability", 0, 1, "")
    range(absorptionRatePerHour, "absorptionRatePerHour", 0, 50, "1/h")
    range(clearanceLitersPerHour, "clearanceLitersPerHour", 0, 100, "L/h")
    issues.requireRange(
      clearanceReferenceAgeYears, jsonPath(path, "clearanceReferenceAgeYears"), 18, 110,
      unit: "years")
    issues.requireRange(
      clearanceFractionalChangePerYear, jsonPath(path, "clearanceFractionalChangePerYear"),
      -0.05, 0.05, unit: "per year")
    // The linear age effect must keep CL positive over the adult ages a
    // population may contain (18-110 years).
    for age in [18.0, 110.0] {
      let factor = 1 + clearanceFractionalChangePerYear * (age - clearanceReferenceAgeYears)
      if factor <= 0 {
        issues.add(
          jsonPath(path, "clearanceFractionalChangePerYear"),
          "makes clearance \(format(factor)) times the reference value at \(format(age)) "
            + "years, which is not positive. Use a smaller slope.")
      }
    }
    validateGenotypeKeys(
      clearanceReductionByCYP2C9, CYP2C9Genotype.self,
      path: jsonPath(path, "clearanceReductionByCYP2C9"), &issues)
    for (key, value) in clearanceReductionByCYP2C9.sorted(by: { $0.key < $1.key }) {
      issues.requireRange(
        value, jsonPath(jsonPath(path, "clearanceReductionByCYP2C9"), key), 0, 0.99,
        unit: "(fraction)", fix: "Give the reduction as a fraction (0.315 for 31.5 %).")
    }
    range(centralVolumeLiters, "centralVolumeLiters", 0, 1000, "L")
    range(
      intercompartmentalClearanceLitersPerHour, "intercompartmentalClearanceLitersPerHour", 0,
      100, "L/h")
    range(peripheralVolumeLiters, "peripheralVolumeLiters", 0, 1000, "L")
    range(maximumEffect, "maximumEffect", 0, 1, "")
    range(hillCoefficient, "hillCoefficient", 0, 10, "")
    validateGenotypeKeys(
      ec50MilligramsPerLiterByVKORC1, VKORC1Genotype.self,
      path: jsonPath(path, "ec50MilligramsPerLiterByVKORC1"), &issues)
    for (key, value) in ec50MilligramsPerLiterByVKORC1.sorted(by: { $0.key < $1.key }) {
      issues.requireRange(
        value, jsonPath(jsonPath(path, "ec50MilligramsPerLiterByVKORC1"), key), 0, 100,
        unit: "mg/L", lowOpen: true)
    }
    for (key, count) in [
      ("fastChainCompartments", fastChainCompartments),
      ("slowChainCompartments", slowChainCompartments),
    ] where !(1...20).contains(count) {
      issues.add(
        jsonPath(path, key), "is \(count), but must be a whole number in [1, 20]. Set it there.")
    }
    range(fastChainMeanTransitTimeHours, "fastChainMeanTransitTimeHours", 0, 1000, "h")
    range(slowChainMeanTransitTimeHours, "slowChainMeanTransitTimeHours", 0, 1000, "h")
    issues.requireRange(baselineINR, jsonPath(path, "baselineINR"), 0.5, 2, unit: "")
    range(maximumINRIncrease, "maximumINRIncrease", 0, 50, "")
    range(inrExponent, "inrExponent", 0, 20, "")
    betweenSubjectVariability.validate(path: jsonPath(path, "betweenSubjectVariability"), &issues)
    issues.requireRange(
      inrResidualLogStandardDeviation, jsonPath(path, "inrResidualLogStandardDeviation"), 0, 1,
      unit: "(SD of log INR)")
  }
}
