import Foundation

/// One IWPC dose equation (International Warfarin Pharmacogenetics
/// Consortium, N Engl J Med 2009;360:753-764): the square root of the
/// weekly dose in mg is linear in the covariates.
///
/// sqrt(weekly dose) = intercept + perAgeDecade x decade + perCentimeter x
/// height + perKilogram x weight + VKORC1 term + CYP2C9 term, where the
/// decade is floor(age / 10) (7 for 70-79 years). The race, enzyme-inducer
/// and amiodarone terms are left out because the shipped population (an
/// Italian cohort) has none of them; see Docs/environments/warfarin.md.
public struct IWPCEquationDefinition: Codable, Sendable, Equatable {
  /// Constant term.
  public var intercept: Double
  /// Coefficient per age decade.
  public var perAgeDecade: Double
  /// Coefficient per cm of height.
  public var perCentimeterHeight: Double
  /// Coefficient per kg of weight.
  public var perKilogramWeight: Double
  /// Term by VKORC1 genotype (all 0 in the clinical equation).
  public var vkorc1Terms: [String: Double]
  /// Term by CYP2C9 diplotype (all 0 in the clinical equation).
  public var cyp2c9Terms: [String: Double]

  /// Returns the predicted weekly racemic dose, mg (0 when the linear
  /// predictor is negative, which the squared form would otherwise turn
  /// into a positive dose).
  public func weeklyDoseMilligrams(
    ageYears: Double, heightCentimeters: Double, weightKilograms: Double,
    cyp2c9: CYP2C9Genotype, vkorc1: VKORC1Genotype
  ) -> Double {
    let decade = (ageYears / 10).rounded(.down)
    var root = intercept + perAgeDecade * decade
    root += perCentimeterHeight * heightCentimeters + perKilogramWeight * weightKilograms
    root += vkorc1Terms[vkorc1.rawValue] ?? 0
    root += cyp2c9Terms[cyp2c9.rawValue] ?? 0
    return root > 0 ? root * root : 0
  }

  func validate(path: String, _ issues: inout IssueCollector) {
    for (key, value) in [
      ("intercept", intercept), ("perAgeDecade", perAgeDecade),
      ("perCentimeterHeight", perCentimeterHeight), ("perKilogramWeight", perKilogramWeight),
    ] {
      issues.requireRange(value, jsonPath(path, key), -20, 20, unit: "")
    }
    validateGenotypeKeys(
      vkorc1Terms, VKORC1Genotype.self, path: jsonPath(path, "vkorc1Terms"), &issues)
    validateGenotypeKeys(
      cyp2c9Terms, CYP2C9Genotype.self, path: jsonPath(path, "cyp2c9Terms"), &issues)
  }
}

/// One row of an INR-based adjustment table: what to do when a measured
/// INR is at least `minimumINR` (and below the next row's minimum).
public struct INRAdjustmentBand: Codable, Sendable, Equatable {
  /// Smallest reported INR of the band; the first band starts at 0.
  public var minimumINR: Double
  /// Change of the weekly maintenance dose (0.1 = +10 %), in [-1, 1].
  public var weeklyDoseChangeFraction: Double
  /// Days without warfarin before the changed dose starts, 0-7.
  public var holdDays: Int
}

/// The INR-based adjustment protocol that follows the IWPC start dose.
public struct INRAdjustmentProtocolDefinition: Codable, Sendable, Equatable {
  /// First therapy day on which a measured INR changes the maintenance
  /// dose; earlier INRs only trigger holds. At least 1.
  public var firstAdjustmentDay: Int
  /// Bands in increasing `minimumINR`, the first at 0.
  public var bands: [INRAdjustmentBand]
  /// Smallest maintenance dose the protocol prescribes, mg/day.
  public var minimumDailyDoseMilligrams: Double

  /// Returns the band that contains `inr`.
  public func band(for inr: Double) -> INRAdjustmentBand {
    bands.last { inr >= $0.minimumINR } ?? bands[0]
  }

  func validate(path: String, _ issues: inout IssueCollector) {
    if firstAdjustmentDay < 1 {
      issues.add(
        jsonPath(path, "firstAdjustmentDay"),
        "is \(firstAdjustmentDay), but therapy days start at 1. Set it to 1 or later.")
    }
    if bands.isEmpty {
      issues.add(jsonPath(path, "bands"), "is empty. Give at least one band starting at INR 0.")
    } else if bands[0].minimumINR != 0 {
      issues.add(
        "\(jsonPath(path, "bands"))[0].minimumINR",
        "is \(format(bands[0].minimumINR)), but the first band must start at 0 so that "
          + "every INR falls in a band. Set it to 0.")
    }
    for (index, band) in bands.enumerated() {
      let bandPath = "\(jsonPath(path, "bands"))[\(index)]"
      if index > 0, !(band.minimumINR > bands[index - 1].minimumINR) {
        issues.add(
          jsonPath(bandPath, "minimumINR"),
          "is \(format(band.minimumINR)), not above the previous band's "
            + "\(format(bands[index - 1].minimumINR)). Sort the bands by increasing INR.")
      }
      issues.requireRange(
        band.weeklyDoseChangeFraction, jsonPath(bandPath, "weeklyDoseChangeFraction"), -1, 1,
        unit: "(fraction)")
      if !(0...7).contains(band.holdDays) {
        issues.add(
          jsonPath(bandPath, "holdDays"),
          "is \(band.holdDays), but must be in [0, 7] days. Set a hold in that range.")
      }
    }
    issues.requireRange(
      minimumDailyDoseMilligrams, jsonPath(path, "minimumDailyDoseMilligrams"), 0, 5, unit: "mg")
  }
}

/// Parameters of the built-in baselines.
public struct WarfarinBaselineDefinition: Codable, Sendable, Equatable {
  /// The IWPC pharmacogenetic equation (with CYP2C9 and VKORC1 terms).
  public var iwpcPharmacogenetic: IWPCEquationDefinition
  /// The IWPC clinical equation (genotype terms all 0).
  public var iwpcClinical: IWPCEquationDefinition
  /// The INR-based adjustment that follows either start dose.
  public var adjustment: INRAdjustmentProtocolDefinition

  func validate(path: String, _ issues: inout IssueCollector) {
    iwpcPharmacogenetic.validate(path: jsonPath(path, "iwpcPharmacogenetic"), &issues)
    iwpcClinical.validate(path: jsonPath(path, "iwpcClinical"), &issues)
    adjustment.validate(path: jsonPath(path, "adjustment"), &issues)
  }
}
