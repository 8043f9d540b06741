/// Parameters of one patient's linear mammillary compartmental model:
/// a central compartment, zero to two peripheral compartments, an optional
/// first-order absorption depot and an optional effect site.
///
/// Symbols in the usual notation: CL = `clearanceLitersPerHour`,
/// V1 = `centralVolumeLiters`, Q2, Q3 =
/// `intercompartmentalClearancesLitersPerHour`, V2, V3 =
/// `peripheralVolumesLiters`, ka = `absorptionRatePerHour`,
/// ke0 = `effectSiteRatePerHour`. For an oral model the values are the
/// apparent ones (CL/F, V/F) because the depot receives the whole dose.
public struct CompartmentalParameters: Codable, Sendable, Equatable {
  /// Elimination clearance from the central compartment (CL), L/h, > 0.
  public var clearanceLitersPerHour: Double
  /// Volume of the central compartment (V1), L, > 0.
  public var centralVolumeLiters: Double
  /// Intercompartmental clearances (Q2, then Q3), L/h, each > 0; 0, 1 or 2
  /// entries, one per peripheral compartment.
  public var intercompartmentalClearancesLitersPerHour: [Double]
  /// Peripheral volumes (V2, then V3), L, each > 0; the same count as
  /// `intercompartmentalClearancesLitersPerHour`.
  public var peripheralVolumesLiters: [Double]
  /// First-order absorption rate constant from the depot (ka), 1/h, > 0;
  /// nil for intravenous models without a depot.
  public var absorptionRatePerHour: Double?
  /// Effect-site equilibration rate constant (ke0), 1/h, > 0; nil when the
  /// model has no effect site.
  public var effectSiteRatePerHour: Double?

  /// Creates parameters; call `validate()` before use.
  public init(
    clearanceLitersPerHour: Double,
    centralVolumeLiters: Double,
    intercompartmentalClearancesLitersPerHour: [Double] = [],
    peripheralVolumesLiters: [Double] = [],
    absorptionRatePerHour: Double? = nil,
    effectSiteRatePerHour: Double? = nil
  ) {
    self.clearanceLitersPerHour = clearanceLitersPerHour
    self.centralVolumeLiters = centralVolumeLiters
    self.intercompartmentalClearancesLitersPerHour = intercompartmentalClearancesLitersPerHour
    self.peripheralVolumesLiters = peripheralVolumesLiters
    self.absorptionRatePerHour = absorptionRatePerHour
    self.effectSiteRatePerHour = effectSiteRatePerHour
  }

  /// The number of peripheral compartments (0, 1 or 2).
  public var peripheralCount: Int { peripheralVolumesLiters.count }

  /// Elimination rate constant k10 = CL / V1, 1/h.
  public var eliminationRatePerHour: Double {
    clearanceLitersPerHour / centralVolumeLiters
  }

  /// Checks that every value is finite and positive and that the
  /// peripheral lists agree in length and have at most two entries.
  /// - Throws: `PharmacokineticError` naming the first invalid parameter.
  public func validate() throws(PharmacokineticError) {
    try requirePositiveFinite(clearanceLitersPerHour, "clearanceLitersPerHour")
    try requirePositiveFinite(centralVolumeLiters, "centralVolumeLiters")
    let clearances = intercompartmentalClearancesLitersPerHour
    guard clearances.count == peripheralVolumesLiters.count else {
      throw PharmacokineticError(
        parameter: "intercompartmentalClearancesLitersPerHour",
        value: "\(clearances.count) entries",
        requirement:
          "expected one entry per peripheral volume (\(peripheralVolumesLiters.count))")
    }
    guard clearances.count <= 2 else {
      throw PharmacokineticError(
        parameter: "peripheralVolumesLiters", value: "\(clearances.count) entries",
        requirement: "expected 0, 1 or 2 peripheral compartments")
    }
    for (index, clearance) in clearances.enumerated() {
      try requirePositiveFinite(
        clearance, "intercompartmentalClearancesLitersPerHour[\(index)]")
    }
    for (index, volume) in peripheralVolumesLiters.enumerated() {
      try requirePositiveFinite(volume, "peripheralVolumesLiters[\(index)]")
    }
    if let rate = absorptionRatePerHour {
      try requirePositiveFinite(rate, "absorptionRatePerHour")
    }
    if let rate = effectSiteRatePerHour {
      try requirePositiveFinite(rate, "effectSiteRatePerHour")
    }
  }
}
