import Foundation

/// The PK model that sets each patient's compartments.
public enum PropofolPharmacokineticModel: String, CaseIterable, Codable, Sendable {
  /// Schnider 1998 with the Schnider 1999 ke0 (`model` section).
  case schnider
  /// Eleveld 2018 with its arterial ke0 (`eleveld` section).
  case eleveld

  public init(from decoder: any Decoder) throws {
    self = try decodeKeyword(Self.self, from: decoder)
  }
}

/// Constants of the Eleveld 2018 propofol PK model (Eleveld DJ, Colin P,
/// Absalom AR, Struys MMRF, Br J Anaesth 2018;120:942-959), arterial
/// samples, with the reference patient a 35-year-old, 70 kg, 170 cm man.
/// Post-menstrual age PMA = 52 age + 40 weeks. With
/// sigmoid(x, E50, g) = x^g / (x^g + E50^g):
///
///     V1  = V1ref sigmoid(W, 33.6, 1) / sigmoid(70, 33.6, 1)
///     V2  = V2ref (W / 70) exp(-0.0156 (age - 35))
///     V3  = V3ref FFM / FFMref [x exp(-0.0138 age) with opioids]
///     CL  = CLref(sex) (W / 70)^0.75 sigmoid(PMA, 42.3, 9.06) / ref
///           [x exp(-0.00286 age) with opioids]
///     Q2  = Q2ref (V2 / V2ref)^0.75 (1 + 1.30 (1 - sigmoid(PMA, 68.3, 1)))
///     Q3  = Q3ref (V3 / V3ref)^0.75 sigmoid(PMA, 68.3, 1) / ref
///     ke0 = 0.146 (W / 70)^-0.25 1/min
///
/// FFM is the Al-Sallami fat-free mass: male (0.88 + 0.12 / (1 + (age /
/// 13.4)^-12.7)) 9270 W / (6680 + 216 BMI), female (1.11 - 0.11 / (1 +
/// (age / 7.1)^-1.1)) 9270 W / (8780 + 244 BMI).
public struct EleveldModelDefinition: Codable, Sendable, Equatable {
  /// V1ref, L (6.28).
  public var centralVolumeLiters: Double
  /// V2ref, L (25.5).
  public var fastPeripheralVolumeLiters: Double
  /// V3ref, L (273).
  public var slowPeripheralVolumeLiters: Double
  /// CLref of men, L/min (1.79).
  public var maleClearanceLitersPerMinute: Double
  /// CLref of women, L/min (2.10).
  public var femaleClearanceLitersPerMinute: Double
  /// Q2ref, L/min. NOTE: public ports differ (1.75 in one, 1.83 in
  /// opentiva), and the paper was not opened to settle it.
  public var fastIntercompartmentalClearanceLitersPerMinute: Double
  /// Q3ref, L/min (1.11).
  public var slowIntercompartmentalClearanceLitersPerMinute: Double
  /// ke0 of a 70 kg patient, 1/min (0.146, arterial).
  public var effectSiteRatePerMinute: Double
  /// Whether opioids are co-administered (lowers CL and V3 with age).
  public var opioidsCoadministered: Bool

  /// Returns the typical parameters for a patient, with the Al-Sallami
  /// fat-free mass in `leanBodyMassKilograms`. Returns nil for non-finite
  /// or non-positive results.
  public func parameters(
    ageYears age: Double, weightKilograms weight: Double, heightCentimeters height: Double,
    isFemale: Bool
  ) -> PropofolPharmacokineticParameters? {
    func sigmoid(_ x: Double, _ e50: Double, _ gamma: Double) -> Double {
      pow(x, gamma) / (pow(x, gamma) + pow(e50, gamma))
    }
    let weeksPerYear = 52.0
    let pma = age * weeksPerYear + 40
    let referencePMA = 35 * weeksPerYear + 40
    let clearanceMaturation = sigmoid(pma, 42.3, 9.06) / sigmoid(referencePMA, 42.3, 9.06)
    let q3Maturation = sigmoid(pma, 68.3, 1)
    let q3MaturationRatio = q3Maturation / sigmoid(referencePMA, 68.3, 1)
    let ffm = Self.fatFreeMassKilograms(
      ageYears: age, weightKilograms: weight, heightCentimeters: height, isFemale: isFemale)
    let referenceFFM = Self.fatFreeMassKilograms(
      ageYears: 35, weightKilograms: 70, heightCentimeters: 170, isFemale: false)

    let v1 = centralVolumeLiters * sigmoid(weight, 33.6, 1) / sigmoid(70, 33.6, 1)
    let v2 = fastPeripheralVolumeLiters * (weight / 70) * exp(-0.0156 * (age - 35))
    let v3 =
      slowPeripheralVolumeLiters * ffm / referenceFFM
      * (opioidsCoadministered ? exp(-0.0138 * age) : 1)
    let clearanceReference =
      isFemale ? femaleClearanceLitersPerMinute : maleClearanceLitersPerMinute
    let clearance =
      clearanceReference * pow(weight / 70, 0.75) * clearanceMaturation
      * (opioidsCoadministered ? exp(-0.00286 * age) : 1)
    let q2 =
      fastIntercompartmentalClearanceLitersPerMinute * pow(v2 / fastPeripheralVolumeLiters, 0.75)
      * (1 + 1.30 * (1 - q3Maturation))
    let q3 =
      slowIntercompartmentalClearanceLitersPerMinute
      * pow(v3 / slowPeripheralVolumeLiters, 0.75) * q3MaturationRatio
    let result = PropofolPharmacokineticParameters(
      leanBodyMassKilograms: ffm, centralVolumeLiters: v1, fastPeripheralVolumeLiters: v2,
      slowPeripheralVolumeLiters: v3, clearanceLitersPerMinute: clearance,
      fastIntercompartmentalClearanceLitersPerMinute: q2,
      slowIntercompartmentalClearanceLitersPerMinute: q3,
      effectSiteRatePerMinute: effectSiteRatePerMinute * pow(weight / 70, -0.25))
    let values = [v1, v2, v3, clearance, q2, q3]
    return values.allSatisfy({ $0 > 0 && $0.isFinite }) ? result : nil
  }

  /// Returns the Al-Sallami fat-free mass, kg (Al-Sallami HS et al., Clin
  /// Pharmacokinet 2015;54:1183-1192, as Eleveld 2018 uses it).
  public static func fatFreeMassKilograms(
    ageYears age: Double, weightKilograms weight: Double, heightCentimeters height: Double,
    isFemale: Bool
  ) -> Double {
    let heightMeters = height / 100
    let bmi = weight / (heightMeters * heightMeters)
    if isFemale {
      return (1.11 - 0.11 / (1 + pow(age / 7.1, -1.1))) * 9270 * weight / (8780 + 244 * bmi)
    }
    return (0.88 + 0.12 / (1 + pow(age / 13.4, -12.7))) * 9270 * weight / (6680 + 216 * bmi)
  }

  func validate(path: String, _ issues: inout IssueCollector) {
    let positive: [(String, Double)] = [
      ("centralVolumeLiters", centralVolumeLiters),
      ("fastPeripheralVolumeLiters", fastPeripheralVolumeLiters),
      ("slowPeripheralVolumeLiters", slowPeripheralVolumeLiters),
      ("maleClearanceLitersPerMinute", maleClearanceLitersPerMinute),
      ("femaleClearanceLitersPerMinute", femaleClearanceLitersPerMinute),
      (
        "fastIntercompartmentalClearanceLitersPerMinute",
        fastIntercompartmentalClearanceLitersPerMinute
      ),
      (
        "slowIntercompartmentalClearanceLitersPerMinute",
        slowIntercompartmentalClearanceLitersPerMinute
      ),
      ("effectSiteRatePerMinute", effectSiteRatePerMinute),
    ]
    for (name, value) in positive {
      issues.requireRange(
        value, jsonPath(path, name), 0, 1000, unit: "", lowOpen: true,
        fix: "Use the published value (see Docs/environments/propofol.md).")
    }
  }
}
