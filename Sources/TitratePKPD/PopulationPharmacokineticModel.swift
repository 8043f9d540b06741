import TitrateRandom

/// A population PK model: one `ParameterModel` per compartmental parameter
/// plus the log-normal between-subject variability their etas come from.
/// Sampling a patient gives `CompartmentalParameters` for a
/// `PharmacokineticBatch`.
public struct PopulationPharmacokineticModel: Codable, Sendable, Equatable {
  /// Clearance CL, L/h.
  public var clearance: ParameterModel
  /// Central volume V1, L.
  public var centralVolume: ParameterModel
  /// Intercompartmental clearances Q2, Q3, L/h (0 to 2 entries).
  public var intercompartmentalClearances: [ParameterModel]
  /// Peripheral volumes V2, V3, L (as many as the clearances).
  public var peripheralVolumes: [ParameterModel]
  /// Absorption rate ka, 1/h; nil for intravenous models.
  public var absorptionRate: ParameterModel?
  /// Effect-site rate ke0, 1/h; nil without an effect site.
  public var effectSiteRate: ParameterModel?
  /// The etas that the parameters' `etaIndex` values point into.
  public var variability: LogNormalVariability

  /// Creates a population model; call `validate()` before sampling.
  public init(
    clearance: ParameterModel, centralVolume: ParameterModel,
    intercompartmentalClearances: [ParameterModel] = [],
    peripheralVolumes: [ParameterModel] = [], absorptionRate: ParameterModel? = nil,
    effectSiteRate: ParameterModel? = nil, variability: LogNormalVariability
  ) {
    self.clearance = clearance
    self.centralVolume = centralVolume
    self.intercompartmentalClearances = intercompartmentalClearances
    self.peripheralVolumes = peripheralVolumes
    self.absorptionRate = absorptionRate
    self.effectSiteRate = effectSiteRate
    self.variability = variability
  }

  /// The parameter models with their public names, in a fixed order.
  public var namedParameters: [(name: String, model: ParameterModel)] {
    var result = [("clearance", clearance), ("centralVolume", centralVolume)]
    for (index, model) in intercompartmentalClearances.enumerated() {
      result.append(("intercompartmentalClearances[\(index)]", model))
    }
    for (index, model) in peripheralVolumes.enumerated() {
      result.append(("peripheralVolumes[\(index)]", model))
    }
    if let model = absorptionRate { result.append(("absorptionRate", model)) }
    if let model = effectSiteRate { result.append(("effectSiteRate", model)) }
    return result
  }

  /// Checks every parameter model, the peripheral counts and that each
  /// eta index points into `variability`.
  /// - Throws: `PharmacokineticError` naming the parameter at fault.
  public func validate() throws(PharmacokineticError) {
    guard intercompartmentalClearances.count == peripheralVolumes.count,
      peripheralVolumes.count <= 2
    else {
      throw PharmacokineticError(
        parameter: "peripheralVolumes",
        value:
          "\(peripheralVolumes.count) volumes, \(intercompartmentalClearances.count)"
          + " clearances",
        requirement: "expected 0, 1 or 2 of each, in equal numbers")
    }
    for (name, model) in namedParameters {
      do {
        try model.validate()
      } catch {
        throw PharmacokineticError(
          parameter: "\(name).\(error.parameter)", value: error.value,
          requirement: error.requirement)
      }
      if let index = model.etaIndex, !(0..<variability.count).contains(index) {
        throw PharmacokineticError(
          parameter: "\(name).etaIndex", value: "\(index)",
          requirement: "expected an index in 0..<\(variability.count) (the etas defined)")
      }
    }
  }

  /// Returns the parameters of a patient with the given covariates and
  /// etas (all etas 0 gives the typical patient for those covariates).
  /// - Throws: `PharmacokineticError` for a wrong eta count, a missing
  ///   covariate or a non-finite parameter value.
  public func parameters(covariates: [String: Double], etas: [Double])
    throws(PharmacokineticError) -> CompartmentalParameters
  {
    guard etas.count == variability.count else {
      throw PharmacokineticError(
        parameter: "etas", value: "\(etas.count) entries",
        requirement: "expected one eta per variability entry (\(variability.count))")
    }
    func evaluate(_ name: String, _ model: ParameterModel) throws(PharmacokineticError)
      -> Double
    {
      let eta = model.etaIndex.map { etas[$0] } ?? 0
      do {
        return try model.value(covariates: covariates, eta: eta)
      } catch {
        throw PharmacokineticError(
          parameter: name, value: error.value, requirement: error.requirement)
      }
    }
    var clearances: [Double] = []
    for (index, model) in intercompartmentalClearances.enumerated() {
      clearances.append(try evaluate("intercompartmentalClearances[\(index)]", model))
    }
    var volumes: [Double] = []
    for (index, model) in peripheralVolumes.enumerated() {
      volumes.append(try evaluate("peripheralVolumes[\(index)]", model))
    }
    return CompartmentalParameters(
      clearanceLitersPerHour: try evaluate("clearance", clearance),
      centralVolumeLiters: try evaluate("centralVolume", centralVolume),
      intercompartmentalClearancesLitersPerHour: clearances,
      peripheralVolumesLiters: volumes,
      absorptionRatePerHour: try absorptionRate.map { model throws(PharmacokineticError) in
        try evaluate("absorptionRate", model)
      },
      effectSiteRatePerHour: try effectSiteRate.map { model throws(PharmacokineticError) in
        try evaluate("effectSiteRate", model)
      })
  }

  /// Draws one patient's etas and returns that patient's parameters.
  /// Consumes `variability.count` normal draws.
  public func sample(covariates: [String: Double], using generator: inout Xoshiro256)
    throws(PharmacokineticError) -> CompartmentalParameters
  {
    let etas = variability.sampleEtas(using: &generator)
    return try parameters(covariates: covariates, etas: etas)
  }
}
