/// The parameters of one UVA/Padova virtual patient, named as in
/// simglucose's `vpatient_params.csv` (lower camel case) and in Dalla Man
/// C, Rizza RA, Cobelli C, IEEE TBME 2007;54:1740-1749. Rates are per
/// minute; masses per kg of body weight unless stated.
public struct UVAPadovaParameters: Codable, Sendable, Equatable {
  /// Body weight BW, kg.
  public var bw: Double
  /// Basal plasma glucose Gb, mg/dL (the steady state under `u2ss`).
  public var gb: Double
  /// Basal plasma insulin concentration Ib, pmol/L.
  public var ib: Double
  /// Intestinal absorption rate kabs, 1/min.
  public var kabs: Double
  /// Maximum gastric emptying rate kmax, 1/min.
  public var kmax: Double
  /// Minimum gastric emptying rate kmin, 1/min.
  public var kmin: Double
  /// Fraction b of the meal at which gastric emptying falls to
  /// (kmax + kmin) / 2 on the way down, dimensionless.
  public var b: Double
  /// Fraction d of the meal at which gastric emptying rises back to
  /// (kmax + kmin) / 2, dimensionless.
  public var d: Double
  /// Fraction f of intestinal absorption that appears in plasma.
  public var f: Double
  /// Glucose distribution volume Vg, dL/kg.
  public var vg: Double
  /// Insulin distribution volume Vi, L/kg.
  public var vi: Double
  /// Insulin-independent utilisation Vm0, mg/kg/min.
  public var vm0: Double
  /// Insulin sensitivity of utilisation Vmx, mg/kg/min per pmol/L.
  public var vmx: Double
  /// Michaelis constant of utilisation Km0, mg/kg.
  public var km0: Double
  /// Plasma-to-tissue glucose rate k1, 1/min.
  public var k1: Double
  /// Tissue-to-plasma glucose rate k2, 1/min.
  public var k2: Double
  /// Rate of insulin action on utilisation p2u, 1/min.
  public var p2u: Double
  /// Liver-to-plasma insulin rate m1, 1/min.
  public var m1: Double
  /// Plasma-to-liver insulin rate m2, 1/min.
  public var m2: Double
  /// Peripheral insulin degradation m4, 1/min.
  public var m4: Double
  /// Hepatic insulin extraction m30, 1/min.
  public var m30: Double
  /// Delay rate of insulin action on production ki, 1/min.
  public var ki: Double
  /// Extrapolated endogenous production at zero glucose and insulin kp1,
  /// mg/kg/min.
  public var kp1: Double
  /// Liver glucose effectiveness kp2, 1/min.
  public var kp2: Double
  /// Insulin action on production kp3, mg/kg/min per pmol/L.
  public var kp3: Double
  /// Insulin-independent glucose uptake Fsnc, mg/kg/min.
  public var fsnc: Double
  /// Renal excretion rate ke1, 1/min.
  public var ke1: Double
  /// Renal threshold ke2, mg/kg.
  public var ke2: Double
  /// Subcutaneous nonmonomeric-to-plasma insulin rate ka1, 1/min.
  public var ka1: Double
  /// Subcutaneous monomeric-to-plasma insulin rate ka2, 1/min.
  public var ka2: Double
  /// Subcutaneous nonmonomeric-to-monomeric insulin rate kd, 1/min.
  public var kd: Double
  /// Plasma-to-subcutaneous glucose rate ksc, 1/min.
  public var ksc: Double
  /// Steady-state insulin infusion u2ss, pmol/kg/min; the basal rate in
  /// U/min is u2ss x BW / 6000 (1 U = 6000 pmol).
  public var u2ss: Double

  /// The basal insulin rate that keeps the patient at `gb`, U/min.
  public var basalUnitsPerMinute: Double { u2ss * bw / 6000 }

  /// The names of the stored parameters, in declaration order (used by the
  /// tests that compare against simglucose's table).
  public static let names = [
    "bw", "gb", "ib", "kabs", "kmax", "kmin", "b", "d", "f", "vg", "vi", "vm0", "vmx", "km0",
    "k1", "k2", "p2u", "m1", "m2", "m4", "m30", "ki", "kp1", "kp2", "kp3", "fsnc", "ke1", "ke2",
    "ka1", "ka2", "kd", "ksc", "u2ss",
  ]

  /// The values in `names` order.
  public var values: [Double] {
    [
      bw, gb, ib, kabs, kmax, kmin, b, d, f, vg, vi, vm0, vmx, km0, k1, k2, p2u, m1, m2, m4, m30,
      ki, kp1, kp2, kp3, fsnc, ke1, ke2, ka1, ka2, kd, ksc, u2ss,
    ]
  }
}

/// The age group of a virtual patient; each is a site of the natural
/// federation.
public enum GlucoseAgeGroup: String, Codable, Sendable, CaseIterable {
  case children
  case adolescents
  case adults
}

/// One virtual patient of simglucose's table with the therapy settings of
/// its `Quest.csv`.
public struct GlucosePatient: Codable, Sendable, Equatable {
  /// simglucose's name, for example `adolescent#001`.
  public var name: String
  /// The patient's age group.
  public var group: GlucoseAgeGroup
  /// Age, years.
  public var ageYears: Double
  /// Carbohydrate ratio CR: grams of carbohydrate covered by 1 U, g/U.
  public var carbohydrateRatioGramsPerUnit: Double
  /// Correction factor CF: fall in glucose per unit of insulin, mg/dL/U.
  public var correctionFactorMilligramsPerDeciliterPerUnit: Double
  /// Total daily insulin, U/day.
  public var totalDailyInsulinUnits: Double
  /// The 13 initial states in `UVAPadovaState` order (the basal steady
  /// state of simglucose's table; units as in `UVAPadovaState`).
  public var initialState: [Double]
  /// Model parameters.
  public var parameters: UVAPadovaParameters
}
