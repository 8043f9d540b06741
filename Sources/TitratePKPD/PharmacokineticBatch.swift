/// Exact stepping of N patients who share one compartmental structure, on a
/// fixed time grid, with a zero-order input rate held constant over each
/// step.
///
/// Storage is a structure of arrays, component-major: the value of state
/// component `c` of patient `p` sits at `c * patientCount + p`, and entry
/// (i, j) of patient p's transition matrix at `(i * n + j) * patientCount + p`.
/// The inner loops of `advance` therefore run over contiguous patients.
/// Each patient's Phi and Gamma (see
/// `LinearCompartmentModel.discretized(stepHours:)`) are computed once at
/// init or by `replaceParameters(at:with:)` and reused every step, so a
/// step is exact to round-off and allocates nothing.
///
/// Not thread-safe: use one batch per thread.
public final class PharmacokineticBatch {
  /// The number of patients, at least 1.
  public let patientCount: Int
  /// The grid step, hours, > 0.
  public let stepHours: Double
  /// The state layout shared by every patient.
  public let structure: CompartmentalStructure
  /// Each patient's current parameters.
  public private(set) var parameters: [CompartmentalParameters]

  private let dimension: Int
  private let centralIndex: Int
  private let aucIndex: Int
  // The mutable storage skips the dynamic exclusivity checks, because a
  // batch is used from one thread only (see above). Callgrind counted about
  // 85 instructions of checks per call of the per-patient `advance`.
  @exclusivity(unchecked) private var state: UnsafeMutableBufferPointer<Double>
  @exclusivity(unchecked) private var scratch: UnsafeMutableBufferPointer<Double>
  private let transitions: UnsafeMutableBufferPointer<Double>
  private let inputs: UnsafeMutableBufferPointer<Double>
  private let centralVolumesLiters: UnsafeMutableBufferPointer<Double>
  /// Transitions over 2^k grid steps for k in 0..<jumpLevels, per patient
  /// (patient-major: `((p * jumpLevels + k) * (n + 1) + i) * n + j` holds
  /// Phi^(2^k)_ij for i < n and Gamma_(2^k)_j in row n, unless
  /// `compactJumps`); empty until `prepareJumps(maximumSteps:)`.
  @exclusivity(unchecked) private var jumps = UnsafeMutableBufferPointer<Double>(
    start: nil, count: 0)
  /// Number of powers of two stored in `jumps`.
  @exclusivity(unchecked) public private(set) var jumpLevels = 0
  /// Whether `jumps` is in the compact layout, 9 entries per level in
  /// place of 12: Phi without its last column, then Gamma. The layout
  /// applies to three state components (central, peripheral and AUC) when
  /// that column is (0, 0, 1) bit for bit in every level of every patient,
  /// because no amount depends on the AUC. The jumps then read a quarter
  /// fewer bytes and multiply by those constants, with the same results.
  @exclusivity(unchecked) private var compactJumps = false

  /// Entries per jump level and patient in `jumps`.
  private var jumpEntries: Int { compactJumps ? 9 : (dimension + 1) * dimension }

  /// Creates a batch at the all-zero state and precomputes each patient's
  /// transition over `stepHours`.
  /// - Parameters:
  ///   - parameters: one parameter set per patient (at least one), all with
  ///     the same structure (peripheral count, depot, effect site).
  ///   - stepHours: grid step, hours, finite and > 0.
  /// - Throws: `PharmacokineticError` naming the first invalid patient
  ///   parameter, a structure mismatch, an empty list or a bad step.
  public init(parameters: [CompartmentalParameters], stepHours: Double)
    throws(PharmacokineticError)
  {
    guard let first = parameters.first else {
      throw PharmacokineticError(
        parameter: "parameters", value: "0 patients",
        requirement: "expected at least one patient")
    }
    try requirePositiveFinite(stepHours, "stepHours")
    let structure = CompartmentalStructure(first)
    for (index, patient) in parameters.enumerated() {
      try Self.check(patient, index: index, against: structure)
    }

    self.patientCount = parameters.count
    self.stepHours = stepHours
    self.structure = structure
    self.parameters = parameters
    dimension = structure.componentCount
    centralIndex = structure.index(of: .central)!
    aucIndex = structure.index(of: .centralAUC)!
    let count = parameters.count
    state = .allocate(capacity: dimension * count)
    scratch = .allocate(capacity: dimension * count)
    transitions = .allocate(capacity: dimension * dimension * count)
    inputs = .allocate(capacity: dimension * count)
    centralVolumesLiters = .allocate(capacity: count)
    state.initialize(repeating: 0)
    scratch.initialize(repeating: 0)
    transitions.initialize(repeating: 0)
    inputs.initialize(repeating: 0)
    centralVolumesLiters.initialize(repeating: 0)
    for index in 0..<count { storeTransition(of: index) }
  }

  deinit {
    jumps.deallocate()
    state.deallocate()
    scratch.deallocate()
    transitions.deallocate()
    inputs.deallocate()
    centralVolumesLiters.deallocate()
  }

  /// Replaces one patient's parameters (for example after a change in renal
  /// function) and recomputes that patient's transition. The state is kept.
  /// - Throws: `PharmacokineticError` when the parameters are invalid or
  ///   their structure differs from the batch's.
  /// - Precondition: `index` is in `0..<patientCount`.
  public func replaceParameters(at index: Int, with newParameters: CompartmentalParameters)
    throws(PharmacokineticError)
  {
    precondition(
      (0..<patientCount).contains(index),
      "patient index \(index) outside 0..<\(patientCount)")
    try Self.check(newParameters, index: index, against: structure)
    parameters[index] = newParameters
    storeTransition(of: index)
    if jumpLevels > 0 { storeJumps(of: index) }
  }

  /// Precomputes each patient's transition over 1, 2, 4, ... grid steps so
  /// that `advance(patient:steps:infusionRateMilligramsPerHour:)` can jump
  /// up to `maximumSteps` steps with at most log2(maximumSteps) + 1
  /// matrix-vector products. Costs (n + 1) n doubles per level and patient,
  /// 9 in the compact layout (see `compactJumps`).
  public func prepareJumps(maximumSteps: Int) {
    precondition(maximumSteps >= 1, "maximumSteps must be at least 1, got \(maximumSteps)")
    var levels = 1
    while (1 << levels) <= maximumSteps { levels += 1 }
    guard levels != jumpLevels else { return }
    jumps.deallocate()
    jumpLevels = levels
    // Compact until a patient's transitions do not allow it.
    compactJumps = dimension == 3
    jumps = .allocate(capacity: patientCount * levels * jumpEntries)
    jumps.initialize(repeating: 0)
    for patient in 0..<patientCount { storeJumps(of: patient) }
  }

  /// Advances one patient by `steps` grid steps with a constant input rate,
  /// by composing the stored powers of two of its transition. Equal to
  /// `steps` single steps up to round-off (relative 1e-13 in the tests).
  ///
  /// Composition is order-free: with a constant rate r, applying m steps and
  /// then m' steps gives Phi^(m+m') x + (Phi^m' Gamma_m + Gamma_m') r, and
  /// Phi^m' Gamma_m + Gamma_m' = Gamma_(m+m') = Phi^m Gamma_m' + Gamma_m.
  /// - Precondition: `prepareJumps(maximumSteps:)` covered `steps`.
  @inline(__always)
  public func advance(patient: Int, steps: Int, infusionRateMilligramsPerHour rate: Double) {
    precondition(steps >= 0 && steps < (1 << jumpLevels), "call prepareJumps for \(steps) steps")
    let n = dimension
    let count = patientCount
    let x = state.baseAddress!
    let table = jumps.baseAddress! + patient * jumpLevels * jumpEntries
    if n == 3 {
      // The common case (two compartments plus AUC, or one compartment with
      // an effect site), kept in registers.
      var three = (x[patient], x[count + patient], x[2 * count + patient])
      if compactJumps {
        Self.jumpThreeCompact(&three, table: UnsafePointer(table), steps: steps, rate: rate)
      } else {
        Self.jumpThree(&three, table: UnsafePointer(table), steps: steps, rate: rate)
      }
      x[patient] = three.0
      x[count + patient] = three.1
      x[2 * count + patient] = three.2
      return
    }
    withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * n) { buffer in
      let current = buffer.baseAddress!
      let next = current + n
      for i in 0..<n { current[i] = x[i * count + patient] }
      var remaining = steps
      var level = 0
      while remaining > 0 {
        if remaining & 1 == 1 {
          let matrix = table + level * (n + 1) * n
          for i in 0..<n {
            var value = matrix[n * n + i] * rate
            for j in 0..<n { value += matrix[i * n + j] * current[j] }
            next[i] = value
          }
          for i in 0..<n { current[i] = next[i] }
        }
        remaining >>= 1
        level += 1
      }
      for i in 0..<n { x[i * count + patient] = current[i] }
    }
  }

  /// Advances one patient through `segmentCount` consecutive segments, the
  /// i-th lasting `segmentSteps[i]` grid steps at the constant input rate
  /// `segmentRates[i]` (mg/h), and writes the central concentration (mg/L)
  /// at the end of each segment into `centralConcentrations[i]`.
  ///
  /// Rounds exactly as one `advance(patient:steps:infusionRateMilligramsPerHour:)`
  /// per segment, each followed by `centralConcentration(patient:)`, but
  /// reads the batch's storage once and, for three state components, keeps
  /// the state in registers between segments.
  /// - Precondition: `prepareJumps(maximumSteps:)` covered every segment.
  public func advance(
    patient: Int, segmentSteps: UnsafePointer<Int>,
    segmentRatesMilligramsPerHour segmentRates: UnsafePointer<Double>, segmentCount: Int,
    centralConcentrations: UnsafeMutablePointer<Double>
  ) {
    let n = dimension
    guard n == 3 else {
      for segment in 0..<segmentCount {
        advance(
          patient: patient, steps: segmentSteps[segment],
          infusionRateMilligramsPerHour: segmentRates[segment])
        centralConcentrations[segment] = centralConcentration(patient: patient)
      }
      return
    }

    let levels = jumpLevels
    let count = patientCount
    let central = centralIndex
    let volume = centralVolumesLiters[patient]
    let x = state.baseAddress!
    let compact = compactJumps
    let table = UnsafePointer(jumps.baseAddress! + patient * levels * jumpEntries)
    var three = (x[patient], x[count + patient], x[2 * count + patient])
    for segment in 0..<segmentCount {
      let steps = segmentSteps[segment]
      precondition(steps >= 0 && steps < (1 << levels), "call prepareJumps for \(steps) steps")
      if compact {
        Self.jumpThreeCompact(&three, table: table, steps: steps, rate: segmentRates[segment])
      } else {
        Self.jumpThree(&three, table: table, steps: steps, rate: segmentRates[segment])
      }
      let centralAmount = central == 0 ? three.0 : (central == 1 ? three.1 : three.2)
      centralConcentrations[segment] = centralAmount / volume
    }

    x[patient] = three.0
    x[count + patient] = three.1
    x[2 * count + patient] = three.2
  }

  /// Advances a three-component state by `steps` grid steps at `rate`
  /// (mg/h): one stored jump (3x3 transition, then the input column) per
  /// set bit of `steps`, from `table`, the patient's first jump level.
  @inline(__always)
  private static func jumpThree(
    _ state: inout (Double, Double, Double), table: UnsafePointer<Double>, steps: Int, rate: Double
  ) {
    var (a, b, c) = state
    var remaining = steps
    // One jump per set bit, lowest first. A loop over the set bits alone
    // measured faster than one over every bit with a test of each.
    while remaining != 0 {
      let matrix = table + remaining.trailingZeroBitCount * 12
      let nextA = matrix[9] * rate + matrix[0] * a + matrix[1] * b + matrix[2] * c
      let nextB = matrix[10] * rate + matrix[3] * a + matrix[4] * b + matrix[5] * c
      let nextC = matrix[11] * rate + matrix[6] * a + matrix[7] * b + matrix[8] * c
      a = nextA
      b = nextB
      c = nextC
      remaining &= remaining - 1
    }
    state = (a, b, c)
  }

  /// `jumpThree` for the compact layout (see `compactJumps`): the stored
  /// entries, with 0, 0 and 1 in place of Phi's last column.
  @inline(__always)
  private static func jumpThreeCompact(
    _ state: inout (Double, Double, Double), table: UnsafePointer<Double>, steps: Int, rate: Double
  ) {
    let zero = 0.0
    let one = 1.0
    var (a, b, c) = state
    var remaining = steps
    // One jump per set bit, lowest first, as in `jumpThree`.
    while remaining != 0 {
      let matrix = table + remaining.trailingZeroBitCount * 9
      let nextA = matrix[6] * rate + matrix[0] * a + matrix[1] * b + zero * c
      let nextB = matrix[7] * rate + matrix[2] * a + matrix[3] * b + zero * c
      let nextC = matrix[8] * rate + matrix[4] * a + matrix[5] * b + one * c
      a = nextA
      b = nextB
      c = nextC
      remaining &= remaining - 1
    }
    state = (a, b, c)
  }

  /// Positions in a full level (Phi row-major, then Gamma) of the entries
  /// of a compact one.
  private static let compactEntryPositions = [0, 1, 3, 4, 6, 7, 9, 10, 11]

  /// Computes one patient's jump levels and stores them in the layout of
  /// `jumps`, first switching every patient to the full layout when this
  /// one's do not fit the compact one.
  private func storeJumps(of patient: Int) {
    let levels = jumpLevels
    let full = (dimension + 1) * dimension
    withUnsafeTemporaryAllocation(of: Double.self, capacity: levels * full) { buffer in
      let table = buffer.baseAddress!
      computeJumps(of: patient, into: table)
      if compactJumps {
        for level in 0..<levels {
          let phi = table + level * full
          if phi[2].bitPattern != 0 || phi[5].bitPattern != 0
            || phi[8].bitPattern != (1.0).bitPattern
          {
            expandJumps()
            break
          }
        }
      }
      let entries = jumpEntries
      let target = jumps.baseAddress! + patient * levels * entries
      for level in 0..<levels {
        if compactJumps {
          for (index, position) in Self.compactEntryPositions.enumerated() {
            target[level * entries + index] = table[level * full + position]
          }
        } else {
          (target + level * entries).update(from: table + level * full, count: full)
        }
      }
    }
  }

  /// Rewrites `jumps` in the full layout, with the constants of the compact
  /// one put back.
  private func expandJumps() {
    precondition(compactJumps && dimension == 3, "the jumps are not compact")
    let levels = jumpLevels
    let compact = jumps
    jumps = .allocate(capacity: patientCount * levels * 12)
    for slot in 0..<(patientCount * levels) {
      let source = compact.baseAddress! + slot * 9
      let target = jumps.baseAddress! + slot * 12
      target.initialize(repeating: 0, count: 12)
      target[8] = 1
      for (index, position) in Self.compactEntryPositions.enumerated() {
        target[position] = source[index]
      }
    }
    compact.deallocate()
    compactJumps = false
  }

  /// Writes one patient's jump levels in the full layout (Phi row-major,
  /// then Gamma, per level) into `table`.
  private func computeJumps(of patient: Int, into table: UnsafeMutablePointer<Double>) {
    let n = dimension
    let count = patientCount
    for i in 0..<n {
      table[n * n + i] = inputs[i * count + patient]
      for j in 0..<n { table[i * n + j] = transitions[(i * n + j) * count + patient] }
    }
    for level in 1..<max(1, jumpLevels) {
      let previous = table + (level - 1) * (n + 1) * n
      let current = table + level * (n + 1) * n
      // Phi_2m = Phi_m Phi_m and Gamma_2m = Phi_m Gamma_m + Gamma_m.
      for i in 0..<n {
        var gamma = previous[n * n + i]
        for k in 0..<n { gamma += previous[i * n + k] * previous[n * n + k] }
        current[n * n + i] = gamma
        for j in 0..<n {
          var value = 0.0
          for k in 0..<n { value += previous[i * n + k] * previous[k * n + j] }
          current[i * n + j] = value
        }
      }
    }
  }

  /// Sets every state component of every patient to zero (no drug, AUC 0).
  public func reset() {
    state.update(repeating: 0)
  }

  /// Sets one patient's state to zero, leaving the others unchanged.
  public func reset(patient index: Int) {
    precondition(
      (0..<patientCount).contains(index),
      "patient index \(index) outside 0..<\(patientCount)")
    for component in 0..<dimension { state[component * patientCount + index] = 0 }
  }

  /// Advances every patient by one grid step with a zero-order input rate
  /// held constant over the step into `structure.inputComponent`.
  /// - Parameter infusionRatesMilligramsPerHour: one rate per patient, mg/h,
  ///   >= 0 for a physical infusion (not checked in this hot loop).
  /// - Precondition: the buffer has `patientCount` entries.
  public func advance(infusionRatesMilligramsPerHour rates: UnsafeBufferPointer<Double>) {
    precondition(
      rates.count == patientCount,
      "expected \(patientCount) infusion rates, got \(rates.count)")
    let count = patientCount
    let n = dimension
    guard let x = UnsafePointer(state.baseAddress), let next = scratch.baseAddress,
      let phi = UnsafePointer(transitions.baseAddress),
      let gamma = UnsafePointer(inputs.baseAddress), let rate = rates.baseAddress
    else { return }

    // next_i = Gamma_i r + sum_j Phi_ij x_j, vectorised over patients.
    for i in 0..<n {
      let row = next + i * count
      let gammaRow = gamma + i * count
      for p in 0..<count { row[p] = gammaRow[p] * rate[p] }
      for j in 0..<n {
        let coefficients = phi + (i * n + j) * count
        let source = x + j * count
        for p in 0..<count { row[p] += coefficients[p] * source[p] }
      }
    }
    swap(&state, &scratch)
  }

  /// Advances only the patients in `patients` by one grid step; the others
  /// keep their state. Callers that step a cache-sized block of patients
  /// through many grid steps before moving to the next block use this, so
  /// the block's transition matrices stay in cache. Gives the same result
  /// for each patient as the whole-batch `advance`.
  ///
  /// - Parameter rates: infusion rate of every patient of the batch, mg/h,
  ///   indexed by patient (only the block's entries are read).
  public func advance(
    infusionRatesMilligramsPerHour rates: UnsafePointer<Double>, patients: Range<Int>
  ) {
    precondition(
      patients.lowerBound >= 0 && patients.upperBound <= patientCount,
      "patient range \(patients) outside 0..<\(patientCount)")
    let count = patientCount
    let n = dimension
    guard let x = state.baseAddress, let next = scratch.baseAddress,
      let phi = UnsafePointer(transitions.baseAddress),
      let gamma = UnsafePointer(inputs.baseAddress)
    else { return }
    let start = patients.lowerBound
    let end = patients.upperBound
    for i in 0..<n {
      let row = next + i * count
      let gammaRow = gamma + i * count
      for p in start..<end { row[p] = gammaRow[p] * rates[p] }
      for j in 0..<n {
        let coefficients = phi + (i * n + j) * count
        let source = x + j * count
        for p in start..<end { row[p] += coefficients[p] * source[p] }
      }
    }
    for i in 0..<n {
      let offset = i * count
      for p in start..<end { x[offset + p] = next[offset + p] }
    }
  }

  /// Array overload of `advance(infusionRatesMilligramsPerHour:)`.
  public func advance(infusionRatesMilligramsPerHour rates: [Double]) {
    rates.withUnsafeBufferPointer { advance(infusionRatesMilligramsPerHour: $0) }
  }

  /// Adds an instantaneous dose to one component of every patient.
  /// - Parameters:
  ///   - milligrams: one amount per patient, mg (0 leaves a patient as is).
  ///   - component: an amount component the structure has: depot, central
  ///     or an existing peripheral.
  /// - Precondition: counts match and the component stores an amount.
  public func addBolus(milligrams: [Double], into component: StateComponent) {
    precondition(
      milligrams.count == patientCount,
      "expected \(patientCount) bolus amounts, got \(milligrams.count)")
    let offset = amountIndex(of: component) * patientCount
    for p in 0..<patientCount { state[offset + p] += milligrams[p] }
  }

  /// Returns one patient's central concentration A1 / V1, mg/L.
  @inline(__always)
  public func centralConcentration(patient: Int) -> Double {
    state[centralIndex * patientCount + patient] / centralVolumesLiters[patient]
  }

  /// Returns each patient's central concentration A1 / V1, mg/L.
  public func centralConcentrationsMilligramsPerLiter() -> [Double] {
    var result = [Double](repeating: 0, count: patientCount)
    result.withUnsafeMutableBufferPointer { centralConcentrations(into: $0) }
    return result
  }

  /// Writes each patient's central concentration A1 / V1, mg/L, into
  /// `buffer` (`patientCount` entries) without allocating.
  public func centralConcentrations(into buffer: UnsafeMutableBufferPointer<Double>) {
    precondition(
      buffer.count == patientCount,
      "expected a buffer of \(patientCount), got \(buffer.count)")
    let offset = centralIndex * patientCount
    for p in 0..<patientCount { buffer[p] = state[offset + p] / centralVolumesLiters[p] }
  }

  /// Returns one patient's area under the central concentration curve
  /// since the last reset, mg*h/L.
  @inline(__always)
  public func centralAUC(patient: Int) -> Double {
    state[aucIndex * patientCount + patient]
  }

  /// Returns each patient's area under the central concentration curve
  /// since the last reset, mg*h/L.
  public func centralAUC() -> [Double] {
    stateValues(of: .centralAUC)
  }

  /// Returns each patient's drug amount in `component`, mg.
  /// - Precondition: `component` is depot, central or peripheral and exists
  ///   in the structure (use `stateValues(of:)` for the effect site or AUC).
  public func amounts(of component: StateComponent) -> [Double] {
    let offset = amountIndex(of: component) * patientCount
    return (0..<patientCount).map { state[offset + $0] }
  }

  /// Returns each patient's value of any existing state component in its
  /// own unit (mg for amounts, mg/L for the effect site, mg*h/L for AUC).
  public func stateValues(of component: StateComponent) -> [Double] {
    guard let index = structure.index(of: component) else {
      preconditionFailure("the \(structure) model has no \(component) component")
    }
    let offset = index * patientCount
    return (0..<patientCount).map { state[offset + $0] }
  }

  /// Overwrites one component of every patient, in its own unit (used to
  /// restore a saved state or to set an initial condition).
  public func setStateValues(_ values: [Double], of component: StateComponent) {
    precondition(
      values.count == patientCount, "expected \(patientCount) values, got \(values.count)")
    guard let index = structure.index(of: component) else {
      preconditionFailure("the \(structure) model has no \(component) component")
    }
    for p in 0..<patientCount { state[index * patientCount + p] = values[p] }
  }

  private func amountIndex(of component: StateComponent) -> Int {
    switch component {
    case .effectSite, .centralAUC:
      preconditionFailure("\(component) holds no drug amount; use stateValues(of:)")
    default:
      guard let index = structure.index(of: component) else {
        preconditionFailure("the \(structure) model has no \(component) component")
      }
      return index
    }
  }

  private func storeTransition(of patient: Int) {
    // Every caller runs `check` first, so construction cannot fail here.
    guard let model = try? LinearCompartmentModel(parameters: parameters[patient]) else {
      preconditionFailure("validated parameters failed to build a model")
    }
    let (phi, gamma) = model.discretized(stepHours: stepHours)
    let n = dimension
    for i in 0..<n {
      inputs[i * patientCount + patient] = gamma[i]
      for j in 0..<n { transitions[(i * n + j) * patientCount + patient] = phi[i * n + j] }
    }
    centralVolumesLiters[patient] = parameters[patient].centralVolumeLiters
  }

  private static func check(
    _ patient: CompartmentalParameters, index: Int,
    against structure: CompartmentalStructure
  ) throws(PharmacokineticError) {
    do {
      try patient.validate()
    } catch {
      throw PharmacokineticError(
        parameter: "parameters[\(index)].\(error.parameter)", value: error.value,
        requirement: error.requirement)
    }
    let patientStructure = CompartmentalStructure(patient)
    guard patientStructure == structure else {
      throw PharmacokineticError(
        parameter: "parameters[\(index)]", value: "a \(patientStructure) model",
        requirement:
          "every patient in a batch needs the structure of patient 0 (\(structure));"
          + " split the patients into one batch per structure")
    }
  }
}
