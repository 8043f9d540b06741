import Foundation
import TitratePKPD

/// The lean-body-mass formula that feeds the Schnider 1998 clearance.
public enum LeanBodyMassFormula: String, CaseIterable, Codable, Sendable {
  /// James 1976 (Research on obesity, HMSO), the formula Schnider 1998 fit
  /// with: male 1.1 W - 128 (W/H)^2, female 1.07 W - 148 (W/H)^2 (W kg, H
  /// cm). It peaks and then falls with weight (a 160 cm woman peaks at
  /// about 92.5 kg), so in obesity LBM drops and CL1 rises.
  case james
  /// Janmahasatian S et al., Clin Pharmacokinet 2005;44:1051-1065: male
  /// 9270 W / (6680 + 216 BMI), female 9270 W / (8780 + 244 BMI). It rises
  /// with weight at every BMI.
  case janmahasatian

  public init(from decoder: any Decoder) throws {
    self = try decodeKeyword(Self.self, from: decoder)
  }

  /// Returns the lean body mass, kg, for weight in kg and height in cm.
  public func leanBodyMassKilograms(
    weightKilograms weight: Double, heightCentimeters height: Double, isFemale: Bool
  ) -> Double {
    switch self {
    case .james:
      let ratio = weight / height
      return isFemale ? 1.07 * weight - 148 * ratio * ratio : 1.1 * weight - 128 * ratio * ratio
    case .janmahasatian:
      let heightMeters = height / 100
      let bmi = weight / (heightMeters * heightMeters)
      return isFemale ? 9270 * weight / (8780 + 244 * bmi) : 9270 * weight / (6680 + 216 * bmi)
    }
  }

  /// Returns the weight, kg, at which the James formula peaks for this
  /// height and sex (dLBM/dW = 0). Above it the James LBM falls. Returns
  /// infinity for Janmahasatian.
  public func peakWeightKilograms(heightCentimeters height: Double, isFemale: Bool) -> Double {
    switch self {
    case .james: return isFemale ? 1.07 * height * height / 296 : 1.1 * height * height / 256
    case .janmahasatian: return .infinity
    }
  }
}

/// Three-compartment PK and effect-site parameters of one patient (Schnider
/// 1998 or Eleveld 2018), in the papers' units (L and L/min).
public struct PropofolPharmacokineticParameters: Sendable, Equatable {
  /// Lean body mass used for CL1 (Schnider), or fat-free mass used for V3
  /// (Eleveld), kg.
  public var leanBodyMassKilograms: Double
  /// Central volume V1, L.
  public var centralVolumeLiters: Double
  /// Fast peripheral volume V2, L.
  public var fastPeripheralVolumeLiters: Double
  /// Slow peripheral volume V3, L.
  public var slowPeripheralVolumeLiters: Double
  /// Elimination clearance CL1, L/min.
  public var clearanceLitersPerMinute: Double
  /// Fast intercompartmental clearance CL2, L/min.
  public var fastIntercompartmentalClearanceLitersPerMinute: Double
  /// Slow intercompartmental clearance CL3, L/min.
  public var slowIntercompartmentalClearanceLitersPerMinute: Double
  /// Effect-site equilibration rate ke0, 1/min.
  public var effectSiteRatePerMinute: Double

  /// The same model for `PharmacokineticBatch`, in L/h and 1/h.
  public var compartmentalParameters: CompartmentalParameters {
    CompartmentalParameters(
      clearanceLitersPerHour: clearanceLitersPerMinute * 60,
      centralVolumeLiters: centralVolumeLiters,
      intercompartmentalClearancesLitersPerHour: [
        fastIntercompartmentalClearanceLitersPerMinute * 60,
        slowIntercompartmentalClearanceLitersPerMinute * 60,
      ],
      peripheralVolumesLiters: [fastPeripheralVolumeLiters, slowPeripheralVolumeLiters],
      effectSiteRatePerHour: effectSiteRatePerMinute * 60)
  }
}

/// BIS as a sigmoid Emax function of the effect-site concentration Ce:
/// BIS = E0 - Emax Ce^gamma / (Ce50^gamma + Ce^gamma).
public struct SigmoidEmaxBIS: Codable, Sendable, Equatable {
  /// Awake BIS E0, in (50, 100].
  public var baseline: Double
  /// Largest drop of BIS Emax, in (0, baseline].
  public var maximumEffect: Double
  /// Ce giving half the maximum drop, mg/L (= ug/mL), > 0.
  public var ce50MilligramsPerLiter: Double
  /// Hill coefficient gamma, in (0, 10].
  public var hillCoefficient: Double

  /// Creates the model from its four constants.
  public init(
    baseline: Double, maximumEffect: Double, ce50MilligramsPerLiter: Double,
    hillCoefficient: Double
  ) {
    self.baseline = baseline
    self.maximumEffect = maximumEffect
    self.ce50MilligramsPerLiter = ce50MilligramsPerLiter
    self.hillCoefficient = hillCoefficient
  }

  /// Returns the BIS at effect-site concentration `ce`, mg/L (negative
  /// values, from round-off, count as 0).
  @inline(__always)
  public func bis(effectSiteMilligramsPerLiter ce: Double) -> Double {
    guard ce > 0 else { return baseline }
    let ratio = pow(ce / ce50MilligramsPerLiter, hillCoefficient)
    return baseline - maximumEffect * ratio / (1 + ratio)
  }

  /// Returns the Ce, mg/L, that gives `bis` (the inverse of
  /// `bis(effectSiteMilligramsPerLiter:)`), or nil when `bis` is outside
  /// (baseline - maximumEffect, baseline].
  public func effectSiteConcentration(forBIS bis: Double) -> Double? {
    let drop = baseline - bis
    guard drop >= 0, drop < maximumEffect else { return nil }
    return ce50MilligramsPerLiter * pow(drop / (maximumEffect - drop), 1 / hillCoefficient)
  }
}
