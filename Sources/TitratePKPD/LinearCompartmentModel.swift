/// A component of the state vector of a linear compartmental model.
public enum StateComponent: Hashable, Sendable, CustomStringConvertible {
  /// Drug amount in the absorption depot, mg (models with ka only).
  case depot
  /// Drug amount in the central compartment, mg.
  case central
  /// Drug amount in peripheral compartment `index` (0 for V2, 1 for V3), mg.
  case peripheral(Int)
  /// Effect-site concentration Ce, mg/L (models with ke0 only). The effect
  /// compartment has negligible volume (Sheiner et al., Clin Pharmacol Ther
  /// 1979;25:358), so its state is a concentration, not an amount.
  case effectSite
  /// Area under the central concentration curve since the last reset,
  /// mg*h/L.
  case centralAUC

  public var description: String {
    switch self {
    case .depot: "depot"
    case .central: "central"
    case .peripheral(let index): "peripheral(\(index))"
    case .effectSite: "effectSite"
    case .centralAUC: "centralAUC"
    }
  }
}

/// The shape of a compartmental model: which state components exist.
/// Patients in one `PharmacokineticBatch` share it.
public struct CompartmentalStructure: Hashable, Sendable, CustomStringConvertible {
  /// Peripheral compartments, 0 to 2.
  public var peripheralCount: Int
  /// True when the model has a first-order absorption depot.
  public var hasDepot: Bool
  /// True when the model has an effect site.
  public var hasEffectSite: Bool

  /// Returns the structure implied by a parameter set.
  public init(_ parameters: CompartmentalParameters) {
    peripheralCount = parameters.peripheralCount
    hasDepot = parameters.absorptionRatePerHour != nil
    hasEffectSite = parameters.effectSiteRatePerHour != nil
  }

  /// State components in state-vector order: depot (if any), central,
  /// peripheral(0), peripheral(1) (as many as exist), effect site (if any),
  /// central AUC (always last).
  public var components: [StateComponent] {
    var result: [StateComponent] = hasDepot ? [.depot] : []
    result.append(.central)
    for index in 0..<peripheralCount { result.append(.peripheral(index)) }
    if hasEffectSite { result.append(.effectSite) }
    result.append(.centralAUC)
    return result
  }

  /// The component that receives a zero-order input: the depot for models
  /// with first-order absorption, otherwise the central compartment.
  public var inputComponent: StateComponent { hasDepot ? .depot : .central }

  /// The number of state components, `components.count`.
  public var componentCount: Int {
    (hasDepot ? 1 : 0) + 1 + peripheralCount + (hasEffectSite ? 1 : 0) + 1
  }

  /// Returns the position of `component` in the state vector, or nil when
  /// the structure lacks it. Computed from the layout of `components`
  /// without building that array, because model construction looks up
  /// positions once per matrix entry and patient.
  public func index(of component: StateComponent) -> Int? {
    let central = hasDepot ? 1 : 0
    switch component {
    case .depot: return hasDepot ? 0 : nil
    case .central: return central
    case .peripheral(let index):
      return index >= 0 && index < peripheralCount ? central + 1 + index : nil
    case .effectSite: return hasEffectSite ? central + 1 + peripheralCount : nil
    case .centralAUC: return componentCount - 1
    }
  }

  public var description: String {
    "\(peripheralCount + 1)-compartment" + (hasDepot ? " + depot" : "")
      + (hasEffectSite ? " + effect site" : "")
  }
}

/// The linear ODE x' = A x + B r of one patient, with x laid out as in
/// `CompartmentalStructure.components` and r a zero-order input rate in
/// mg/h into `CompartmentalStructure.inputComponent`.
///
/// Equations, with k10 = CL/V1, k1j = Qj/V1, kj1 = Qj/Vj (1/h):
/// - depot:      dD/dt  = -ka D (+ r)
/// - central:    dA1/dt = ka D - (k10 + sum_j k1j) A1 + sum_j kj1 Aj (+ r)
/// - peripheral: dAj/dt = k1j A1 - kj1 Aj
/// - effect:     dCe/dt = ke0 (A1/V1 - Ce)
/// - AUC:        dAUC/dt = A1/V1
/// Amounts are in mg, Ce in mg/L and AUC in mg*h/L.
public struct LinearCompartmentModel: Sendable, Equatable {
  /// The parameters the matrices were built from.
  public let parameters: CompartmentalParameters
  /// The state layout.
  public let structure: CompartmentalStructure
  /// The number of state components (rows of A).
  public var dimension: Int { structure.componentCount }
  /// System matrix A, row-major, `dimension x dimension`, 1/h (rows of Ce
  /// and AUC carry 1/L factors where they read the central amount).
  public let systemMatrix: [Double]
  /// Input column B: 1 at the input component, 0 elsewhere (mg/h in, mg/h
  /// out).
  public let inputColumn: [Double]

  /// Builds A and B for validated parameters.
  /// - Throws: `PharmacokineticError` from `parameters.validate()`.
  public init(parameters: CompartmentalParameters) throws(PharmacokineticError) {
    try parameters.validate()
    self.parameters = parameters
    let structure = CompartmentalStructure(parameters)
    self.structure = structure
    let n = structure.componentCount
    var a = [Double](repeating: 0, count: n * n)
    func set(_ row: StateComponent, _ column: StateComponent, _ value: Double) {
      a[structure.index(of: row)! * n + structure.index(of: column)!] += value
    }

    let volume = parameters.centralVolumeLiters
    set(.central, .central, -parameters.eliminationRatePerHour)
    for j in 0..<parameters.peripheralCount {
      let clearance = parameters.intercompartmentalClearancesLitersPerHour[j]
      let outRate = clearance / volume
      let returnRate = clearance / parameters.peripheralVolumesLiters[j]
      set(.central, .central, -outRate)
      set(.central, .peripheral(j), returnRate)
      set(.peripheral(j), .central, outRate)
      set(.peripheral(j), .peripheral(j), -returnRate)
    }
    if let absorptionRate = parameters.absorptionRatePerHour {
      set(.depot, .depot, -absorptionRate)
      set(.central, .depot, absorptionRate)
    }
    if let equilibrationRate = parameters.effectSiteRatePerHour {
      set(.effectSite, .central, equilibrationRate / volume)
      set(.effectSite, .effectSite, -equilibrationRate)
    }
    set(.centralAUC, .central, 1 / volume)
    systemMatrix = a

    var b = [Double](repeating: 0, count: n)
    b[structure.index(of: structure.inputComponent)!] = 1
    inputColumn = b
  }

  /// Returns the exact zero-order-hold discretisation over `stepHours`:
  /// x(t + h) = Phi x(t) + Gamma r for r constant over the step.
  ///
  /// Phi = e^(A h) and Gamma = integral_0^h e^(A s) ds B are the top blocks of
  /// exp([[A, B], [0, 0]] h) (Van Loan, IEEE Trans Autom Control 1978;
  /// 23:395), which needs no inverse of A, so it holds with the singular
  /// A that the AUC state creates.
  /// - Returns: Phi row-major (`dimension x dimension`) and Gamma
  ///   (`dimension` entries, state units per mg/h).
  /// - Precondition: `stepHours` is finite and positive.
  public func discretized(stepHours: Double) -> (transition: [Double], input: [Double]) {
    precondition(stepHours.isFinite && stepHours > 0, "stepHours must be > 0, got \(stepHours)")
    let n = dimension
    let m = n + 1
    var augmented = [Double](repeating: 0, count: m * m)
    for i in 0..<n {
      for j in 0..<n { augmented[i * m + j] = systemMatrix[i * n + j] * stepHours }
      augmented[i * m + n] = inputColumn[i] * stepHours
    }
    let exponential = matrixExponential(augmented, dimension: m)
    var transition = [Double](repeating: 0, count: n * n)
    var input = [Double](repeating: 0, count: n)
    for i in 0..<n {
      for j in 0..<n { transition[i * n + j] = exponential[i * m + j] }
      input[i] = exponential[i * m + n]
    }
    return (transition, input)
  }
}
