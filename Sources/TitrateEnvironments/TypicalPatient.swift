/// Errors building a specific patient from covariates.
public enum PatientSpecificationError: Error, Equatable, CustomStringConvertible {
  case unknownPopulation(name: String, known: [String])
  case invalidCovariate(name: String, value: Double, allowed: String)

  public var description: String {
    switch self {
    case .unknownPopulation(let name, let known):
      return "unknown population \"\(name)\"; use one of: \(known.joined(separator: ", "))"
    case .invalidCovariate(let name, let value, let allowed):
      return "\(name) \(value) is invalid; give a value in \(allowed)"
    }
  }
}

extension EnvironmentDefinition {
  /// Builds the typical patient (all between-subject effects zero) of a
  /// population's PK model for given covariates, for what-if simulations.
  ///
  /// - Throws: `PatientSpecificationError` for an unknown population or a
  ///   covariate outside its physiological range (age 18-120 y, weight
  ///   20-400 kg, serum creatinine 0.1-20 mg/dL).
  public func typicalPatient(
    populationName: String, ageYears: Double, weightKilograms: Double, isFemale: Bool,
    serumCreatinineMilligramsPerDeciliter: Double, onHaemodialysis: Bool,
    inIntensiveCare: Bool = false
  ) throws(PatientSpecificationError) -> VirtualPatient {
    guard populations[populationName] != nil else {
      throw .unknownPopulation(name: populationName, known: populationNames)
    }
    let checks: [(String, Double, ClosedRange<Double>, String)] = [
      ("age", ageYears, 18...120, "18-120 years"),
      ("weight", weightKilograms, 20...400, "20-400 kg"),
      ("serum creatinine", serumCreatinineMilligramsPerDeciliter, 0.1...20, "0.1-20 mg/dL"),
    ]
    for (name, value, range, allowed) in checks where !(value.isFinite && range.contains(value)) {
      throw .invalidCovariate(name: name, value: value, allowed: allowed)
    }
    let sampler = PatientSampler(definition: self, populationName: populationName)
    let etaCount = models[populations[populationName]!.model]!.parameters.present.count
    let parameters = sampler.individualParameters(
      ageYears: ageYears, weightKilograms: weightKilograms, isFemale: isFemale,
      serumCreatinineMilligramsPerDeciliter: serumCreatinineMilligramsPerDeciliter,
      onHaemodialysis: onHaemodialysis, etas: [Double](repeating: 0, count: etaCount))
    return VirtualPatient(
      ageYears: ageYears, weightKilograms: weightKilograms, isFemale: isFemale,
      serumCreatinineMilligramsPerDeciliter: serumCreatinineMilligramsPerDeciliter,
      onHaemodialysis: onHaemodialysis, inIntensiveCare: inIntensiveCare, parameters: parameters)
  }
}

extension VancomycinEnvironment {
  /// Returns the observations of the current state (for example after
  /// `setPatients(_:)`), in `VancomycinObservation` layout.
  public func currentObservations() -> [Float] { observations() }
}
