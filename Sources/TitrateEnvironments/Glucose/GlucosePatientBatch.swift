import TitratePKPD

/// A batch of UVA/Padova patients advanced minute by minute with
/// simglucose's input conventions: the carbohydrate and insulin inputs are
/// constant within each minute, an announced meal is eaten at
/// `eatingRateGramsPerMinute`, and the gastric emptying uses the meal size
/// Dbar = (stomach content when eating began, mg) + (grams eaten since
/// then) x 1000.
///
/// Eating (per patient, as simglucose's `T1DPatient.step`): announced
/// grams join the planned amount; each minute eats min(rate, planned). A
/// minute that eats after a minute that did not starts a meal: it records
/// the stomach content and restarts the grams eaten. The grams eaten keep
/// counting while eating continues and stay after it stops, so Dbar keeps
/// the size of the last meal until the next one starts.
public final class GlucosePatientBatch {
  /// Patients in the batch.
  public let patientCount: Int
  /// The model, with the per-patient parameters and inputs.
  public let model: UVAPadovaBatchModel
  /// States, `UVAPadovaState.rawValue * patientCount + p`.
  public internal(set) var state: [Double]
  /// Minutes simulated since the start.
  public private(set) var minute = 0

  let integrator: BatchedRungeKutta4
  let stepsPerMinute: Int
  let eatingRateGramsPerMinute: Double
  // Per-patient columns, allocated once: `advanceMinute` runs three times
  // per environment step, and element access through pointers avoids the
  // allocation and exclusivity checks of array properties of a class.
  let bodyWeightKilograms: UnsafeMutableBufferPointer<Double>
  /// Carbohydrate announced but not yet eaten, g.
  let plannedGrams: UnsafeMutableBufferPointer<Double>
  /// Grams eaten in the previous minute.
  let previousMinuteGrams: UnsafeMutableBufferPointer<Double>
  /// Stomach content Qsto1 + Qsto2 when the current meal began, mg.
  let mealStartStomachMilligrams: UnsafeMutableBufferPointer<Double>
  /// Grams eaten since the current meal began.
  let gramsEatenInMeal: UnsafeMutableBufferPointer<Double>

  /// Creates the batch at the patients' initial states.
  /// - Parameters:
  ///   - patients: one per batch entry, at least one.
  ///   - stepsPerMinute: RK4 steps per minute, at least 1.
  ///   - eatingRateGramsPerMinute: the most a patient eats per minute, > 0.
  public init(patients: [GlucosePatient], stepsPerMinute: Int, eatingRateGramsPerMinute: Double) {
    precondition(stepsPerMinute >= 1, "stepsPerMinute must be at least 1, got \(stepsPerMinute)")
    precondition(eatingRateGramsPerMinute > 0, "the eating rate must be > 0")
    patientCount = patients.count
    model = UVAPadovaBatchModel(parameters: patients.map(\.parameters))
    integrator = BatchedRungeKutta4(
      stateCount: model.stateCount, patientCount: patients.count,
      nonNegativeComponents: UVAPadovaBatchModel.nonNegativeComponents)
    self.stepsPerMinute = stepsPerMinute
    self.eatingRateGramsPerMinute = eatingRateGramsPerMinute
    func zeros() -> UnsafeMutableBufferPointer<Double> {
      let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: patients.count)
      buffer.initialize(repeating: 0)
      return buffer
    }
    state = []
    bodyWeightKilograms = zeros()
    plannedGrams = zeros()
    previousMinuteGrams = zeros()
    mealStartStomachMilligrams = zeros()
    gramsEatenInMeal = zeros()
    setPatients(patients)
  }

  deinit {
    for buffer in [
      bodyWeightKilograms, plannedGrams, previousMinuteGrams, mealStartStomachMilligrams,
      gramsEatenInMeal,
    ] {
      buffer.deallocate()
    }
  }

  /// Replaces every patient and restarts them at their initial states.
  /// - Precondition: `patients.count == patientCount`.
  public func setPatients(_ patients: [GlucosePatient]) {
    precondition(
      patients.count == patientCount, "received \(patients.count) patients for \(patientCount)")
    model.setParameters(patients.map(\.parameters))
    let n = patientCount
    let stateCount = model.stateCount
    state = [Double](repeating: 0, count: stateCount * n)
    for (p, patient) in patients.enumerated() {
      for component in 0..<stateCount {
        state[component * n + p] = patient.initialState[component]
      }
      bodyWeightKilograms[p] = patient.parameters.bw
      mealStartStomachMilligrams[p] = patient.initialState[0] + patient.initialState[1]
    }
    for p in 0..<n {
      plannedGrams[p] = 0
      previousMinuteGrams[p] = 0
      gramsEatenInMeal[p] = 0
    }
    minute = 0
  }

  /// Returns the blood glucose reading Gs / Vg of every patient, mg/dL.
  public var bloodGlucose: [Double] {
    state.withUnsafeBufferPointer { model.bloodGlucose(state: $0.baseAddress!) }
  }

  /// Writes the blood glucose reading Gs / Vg of every patient, mg/dL, to
  /// `glucose` (`patientCount` values).
  func bloodGlucose(into glucose: UnsafeMutablePointer<Double>) {
    state.withUnsafeBufferPointer { model.bloodGlucose(state: $0.baseAddress!, into: glucose) }
  }

  /// Advances every patient by one minute.
  /// - Parameters:
  ///   - announcedGrams: carbohydrate announced at this minute, g (0 for
  ///     none), one per patient.
  ///   - insulinUnitsPerMinute: subcutaneous insulin delivered during the
  ///     minute, U/min, one per patient.
  /// - Returns: the grams each patient eats during the minute.
  @discardableResult
  public func advanceMinute(announcedGrams: [Double], insulinUnitsPerMinute: [Double]) -> [Double]
  {
    let n = patientCount
    precondition(announcedGrams.count == n && insulinUnitsPerMinute.count == n)
    return [Double](unsafeUninitializedCapacity: n) { eaten, count in
      announcedGrams.withUnsafeBufferPointer { announced in
        insulinUnitsPerMinute.withUnsafeBufferPointer { insulin in
          advanceMinute(
            announcedGrams: announced.baseAddress!, insulinUnitsPerMinute: insulin.baseAddress!,
            eatenGrams: eaten.baseAddress!)
        }
      }
      count = n
    }
  }

  /// Advances every patient by one minute without allocating; the
  /// pointers address `patientCount` values each (see the array form).
  func advanceMinute(
    announcedGrams: UnsafePointer<Double>, insulinUnitsPerMinute: UnsafePointer<Double>,
    eatenGrams eaten: UnsafeMutablePointer<Double>
  ) {
    let n = patientCount
    let rate = eatingRateGramsPerMinute
    let solid = UVAPadovaState.stomachSolid.rawValue * n
    let liquid = UVAPadovaState.stomachLiquid.rawValue * n
    let model = self.model
    state.withUnsafeMutableBufferPointer { stateBuffer in
      let x = stateBuffer.baseAddress!
      model.carbohydrateMilligramsPerMinute.withUnsafeMutableBufferPointer { carbohydrate in
        model.insulinPicomolesPerKilogramPerMinute.withUnsafeMutableBufferPointer { insulin in
          model.mealSizeMilligrams.withUnsafeMutableBufferPointer { mealSize in
            for p in 0..<n {
              plannedGrams[p] += announcedGrams[p]
              let grams = plannedGrams[p] > 0 ? min(rate, plannedGrams[p]) : 0
              plannedGrams[p] = max(plannedGrams[p] - grams, 0)
              if grams > 0 && previousMinuteGrams[p] <= 0 {
                // A meal begins: Dbar restarts from the stomach content now.
                mealStartStomachMilligrams[p] = x[solid + p] + x[liquid + p]
                gramsEatenInMeal[p] = 0
              }
              gramsEatenInMeal[p] += grams
              previousMinuteGrams[p] = grams
              eaten[p] = grams
              carbohydrate[p] = grams * 1000
              // 1 U = 6000 pmol; the model's input is per kg of body weight.
              insulin[p] = insulinUnitsPerMinute[p] * 6000 / bodyWeightKilograms[p]
              mealSize[p] = mealStartStomachMilligrams[p] + gramsEatenInMeal[p] * 1000
            }
          }
        }
      }
      let stepHours = 1 / (60 * Double(stepsPerMinute))
      let startHours = Double(minute) / 60
      for index in 0..<stepsPerMinute {
        integrator.step(
          x, timeHours: startHours + Double(index) * stepHours, stepHours: stepHours,
          rightHandSide: model)
      }
    }
    minute += 1
  }
}
