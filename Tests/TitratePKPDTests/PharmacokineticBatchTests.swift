import Foundation
import Testing

@testable import TitratePKPD

@Suite struct PharmacokineticBatchTests {
  static let vancomycin = CompartmentalParameters(
    clearanceLitersPerHour: 4.5, centralVolumeLiters: 58.4,
    intercompartmentalClearancesLitersPerHour: [6.5], peripheralVolumesLiters: [38.4])

  /// Runs one loading infusion and two later steps of a fixed schedule.
  private func run(_ batch: PharmacokineticBatch) {
    let count = batch.patientCount
    batch.addBolus(milligrams: Array(repeating: 250, count: count), into: .central)
    for step in 0..<40 {
      let rate = step < 6 ? 1000.0 : 0
      batch.advance(infusionRatesMilligramsPerHour: Array(repeating: rate, count: count))
    }
  }

  @Test func batchEqualsPatientsRunAlone() throws {
    var slow = Self.vancomycin
    slow.clearanceLitersPerHour = 1.1
    var large = Self.vancomycin
    large.peripheralVolumesLiters = [95]
    let patients = [Self.vancomycin, slow, large]
    let batch = try PharmacokineticBatch(parameters: patients, stepHours: 0.25)
    run(batch)
    for (index, patient) in patients.enumerated() {
      let single = try PharmacokineticBatch(parameters: [patient], stepHours: 0.25)
      run(single)
      // Same operations in the same order per patient: bit-identical.
      #expect(batch.amounts(of: .central)[index] == single.amounts(of: .central)[0])
      #expect(batch.amounts(of: .peripheral(0))[index] == single.amounts(of: .peripheral(0))[0])
      #expect(batch.centralAUC()[index] == single.centralAUC()[0])
    }
  }

  @Test func blockAdvanceEqualsWholeBatchAdvance() throws {
    var slow = Self.vancomycin
    slow.clearanceLitersPerHour = 1.1
    let patients = (0..<7).map { index -> CompartmentalParameters in
      var parameters = index % 2 == 0 ? Self.vancomycin : slow
      parameters.centralVolumeLiters += Double(index)
      return parameters
    }
    let whole = try PharmacokineticBatch(parameters: patients, stepHours: 0.25)
    let blocked = try PharmacokineticBatch(parameters: patients, stepHours: 0.25)
    let rates = (0..<7).map { Double($0) * 150 }
    // Blocks of 3, 3 and 1 patients, each stepped 20 times before the next.
    for _ in 0..<20 { whole.advance(infusionRatesMilligramsPerHour: rates) }
    rates.withUnsafeBufferPointer { buffer in
      for block in [0..<3, 3..<6, 6..<7] {
        for _ in 0..<20 {
          blocked.advance(infusionRatesMilligramsPerHour: buffer.baseAddress!, patients: block)
        }
      }
    }
    #expect(blocked.amounts(of: .central) == whole.amounts(of: .central))
    #expect(blocked.amounts(of: .peripheral(0)) == whole.amounts(of: .peripheral(0)))
    #expect(blocked.centralAUC() == whole.centralAUC())
  }

  @Test func jumpsEqualRepeatedSingleSteps() throws {
    var slow = Self.vancomycin
    slow.clearanceLitersPerHour = 0.8
    slow.peripheralVolumesLiters = [120]
    let patients = [Self.vancomycin, slow]
    let stepped = try PharmacokineticBatch(parameters: patients, stepHours: 0.25)
    let jumped = try PharmacokineticBatch(parameters: patients, stepHours: 0.25)
    jumped.prepareJumps(maximumSteps: 48)
    #expect(jumped.jumpLevels == 6)
    // Infusion for 7 steps, decay for 4, then 35, then 2: one 12-h interval.
    for (steps, rate) in [(7, 857.0), (4, 0.0), (35, 0.0), (2, 0.0), (48, 300.0), (1, 0.0)] {
      for _ in 0..<steps {
        stepped.advance(infusionRatesMilligramsPerHour: [rate, rate])
      }
      for patient in 0..<2 {
        jumped.advance(patient: patient, steps: steps, infusionRateMilligramsPerHour: rate)
      }
      for component in [StateComponent.central, .peripheral(0), .centralAUC] {
        let expected = stepped.stateValues(of: component)
        let actual = jumped.stateValues(of: component)
        for patient in 0..<2 {
          let scale = max(1, abs(expected[patient]))
          #expect(
            abs(actual[patient] - expected[patient]) <= 1e-12 * scale,
            "\(component) patient \(patient) after \(steps) steps")
        }
      }
    }
  }

  /// Three state components (two compartments plus AUC) take the register
  /// path, four (three compartments plus AUC) the general one.
  @Test(arguments: [[6.5], [6.5, 2.0]])
  func segmentsEqualSingleJumpsBitwise(intercompartmentalClearances: [Double]) throws {
    var slow = Self.vancomycin
    slow.clearanceLitersPerHour = 0.8
    let patients = [Self.vancomycin, slow].map { patient -> CompartmentalParameters in
      var parameters = patient
      parameters.intercompartmentalClearancesLitersPerHour = intercompartmentalClearances
      parameters.peripheralVolumesLiters = intercompartmentalClearances.map { 30 * $0 }
      return parameters
    }
    let single = try PharmacokineticBatch(parameters: patients, stepHours: 0.25)
    let segmented = try PharmacokineticBatch(parameters: patients, stepHours: 0.25)
    single.prepareJumps(maximumSteps: 48)
    segmented.prepareJumps(maximumSteps: 48)

    // One 12-h interval: infusion, peak wait, decay to the trough, then
    // the rest, including an empty segment. Then a second interval.
    let steps = [7, 4, 0, 35, 2, 48, 13]
    let rates = [857.0, 0, 0, 0, 0, 300, 0]
    var concentrations = [Double](repeating: -1, count: steps.count)

    for patient in 0..<2 {
      concentrations.withUnsafeMutableBufferPointer { output in
        segmented.advance(
          patient: patient, segmentSteps: steps, segmentRatesMilligramsPerHour: rates,
          segmentCount: steps.count, centralConcentrations: output.baseAddress!)
      }
      for segment in steps.indices {
        single.advance(
          patient: patient, steps: steps[segment],
          infusionRateMilligramsPerHour: rates[segment])
        #expect(
          concentrations[segment].bitPattern
            == single.centralConcentration(patient: patient).bitPattern,
          "patient \(patient) segment \(segment)")
      }
    }

    for component in single.structure.components {
      #expect(
        segmented.stateValues(of: component).map(\.bitPattern)
          == single.stateValues(of: component).map(\.bitPattern), "\(component)")
    }
  }

  @Test func jumpsFollowReplacedParameters() throws {
    let batch = try PharmacokineticBatch(parameters: [Self.vancomycin], stepHours: 0.5)
    batch.prepareJumps(maximumSteps: 10)
    var faster = Self.vancomycin
    faster.clearanceLitersPerHour = 9
    try batch.replaceParameters(at: 0, with: faster)
    let reference = try PharmacokineticBatch(parameters: [faster], stepHours: 0.5)
    batch.advance(patient: 0, steps: 10, infusionRateMilligramsPerHour: 500)
    for _ in 0..<10 { reference.advance(infusionRatesMilligramsPerHour: [500]) }
    let expected = reference.centralAUC()[0]
    #expect(abs(batch.centralAUC()[0] - expected) <= 1e-12 * expected)
  }

  @Test func replaceParametersAffectsOnePatient() throws {
    var reduced = Self.vancomycin
    reduced.clearanceLitersPerHour = 2.0
    let batch = try PharmacokineticBatch(
      parameters: [Self.vancomycin, Self.vancomycin], stepHours: 0.5)
    try batch.replaceParameters(at: 1, with: reduced)
    #expect(batch.parameters[1] == reduced)
    run(batch)
    let unchanged = try PharmacokineticBatch(parameters: [Self.vancomycin], stepHours: 0.5)
    let changed = try PharmacokineticBatch(parameters: [reduced], stepHours: 0.5)
    run(unchanged)
    run(changed)
    #expect(batch.centralAUC()[0] == unchanged.centralAUC()[0])
    #expect(batch.centralAUC()[1] == changed.centralAUC()[0])
    #expect(batch.centralAUC()[1] > batch.centralAUC()[0])
  }

  @Test func replaceParametersKeepsState() throws {
    let batch = try PharmacokineticBatch(parameters: [Self.vancomycin], stepHours: 1)
    batch.addBolus(milligrams: [1000], into: .central)
    var changed = Self.vancomycin
    changed.clearanceLitersPerHour = 9
    try batch.replaceParameters(at: 0, with: changed)
    #expect(batch.amounts(of: .central) == [1000])
  }

  @Test func resetClearsState() throws {
    let batch = try PharmacokineticBatch(
      parameters: [Self.vancomycin, Self.vancomycin], stepHours: 0.5)
    run(batch)
    batch.reset(patient: 0)
    #expect(batch.amounts(of: .central)[0] == 0)
    #expect(batch.centralAUC()[0] == 0)
    #expect(batch.amounts(of: .central)[1] > 0)
    batch.reset()
    for component in batch.structure.components {
      #expect(batch.stateValues(of: component) == [0, 0], "\(component)")
    }
  }

  @Test func inPlaceConcentrationsMatchArray() throws {
    let batch = try PharmacokineticBatch(
      parameters: [Self.vancomycin, Self.vancomycin], stepHours: 0.5)
    run(batch)
    var buffer = [Double](repeating: -1, count: 2)
    buffer.withUnsafeMutableBufferPointer { batch.centralConcentrations(into: $0) }
    #expect(buffer == batch.centralConcentrationsMilligramsPerLiter())
    #expect(abs(buffer[0] - batch.amounts(of: .central)[0] / 58.4) <= 1e-15 * buffer[0])
  }

  @Test func depotInfusionReachesRateOverClearance() throws {
    // A constant input into the depot is all absorbed, so the central
    // concentration approaches R / CL (as for an IV infusion).
    let oral = CompartmentalParameters(
      clearanceLitersPerHour: 2, centralVolumeLiters: 10, absorptionRatePerHour: 1.5)
    let batch = try PharmacokineticBatch(parameters: [oral], stepHours: 1)
    #expect(batch.structure.inputComponent == .depot)
    for _ in 0..<400 { batch.advance(infusionRatesMilligramsPerHour: [30]) }
    let concentration = batch.centralConcentrationsMilligramsPerLiter()[0]
    #expect(relativeError(concentration, 30 / 2.0, floor: 1) <= 1e-9)
    #expect(relativeError(batch.amounts(of: .depot)[0], 30 / 1.5, floor: 1) <= 1e-9)
  }

  @Test func stateLayoutOrder() throws {
    let full = CompartmentalParameters(
      clearanceLitersPerHour: 1, centralVolumeLiters: 1,
      intercompartmentalClearancesLitersPerHour: [1, 1], peripheralVolumesLiters: [1, 1],
      absorptionRatePerHour: 1, effectSiteRatePerHour: 1)
    let model = try LinearCompartmentModel(parameters: full)
    #expect(
      model.structure.components == [
        .depot, .central, .peripheral(0), .peripheral(1), .effectSite, .centralAUC,
      ])
    #expect(model.inputColumn == [1, 0, 0, 0, 0, 0])
    let iv = try LinearCompartmentModel(parameters: Self.vancomycin)
    #expect(iv.structure.components == [.central, .peripheral(0), .centralAUC])
    #expect(iv.inputColumn == [1, 0, 0])
  }

  @Test func componentPositionsMatchTheLayoutForEveryStructure() {
    // `index(of:)` computes positions arithmetically; the oracle is the
    // position in the `components` array, for all 12 structures, and nil
    // for every component a structure lacks.
    let every: [StateComponent] = [
      .depot, .central, .peripheral(-1), .peripheral(0), .peripheral(1), .peripheral(2),
      .effectSite, .centralAUC,
    ]
    for peripheralCount in 0...2 {
      for hasDepot in [false, true] {
        for hasEffectSite in [false, true] {
          let parameters = CompartmentalParameters(
            clearanceLitersPerHour: 1, centralVolumeLiters: 1,
            intercompartmentalClearancesLitersPerHour: Array(repeating: 1, count: peripheralCount),
            peripheralVolumesLiters: Array(repeating: 1, count: peripheralCount),
            absorptionRatePerHour: hasDepot ? 1 : nil,
            effectSiteRatePerHour: hasEffectSite ? 1 : nil)
          let structure = CompartmentalStructure(parameters)
          let layout = structure.components
          #expect(structure.componentCount == layout.count)
          for component in every {
            #expect(
              structure.index(of: component) == layout.firstIndex(of: component),
              "\(component) in \(structure)")
          }
        }
      }
    }
  }

  @Test func massBalanceWithoutElimination() throws {
    // Over the amount rows, the central column of A sums to -CL/V1 and the
    // peripheral column to 0: distribution moves drug, only CL removes it.
    let model = try LinearCompartmentModel(parameters: Self.vancomycin)
    let n = model.dimension
    let amountRows = [0, 1]
    for column in amountRows {
      let sum = amountRows.map { model.systemMatrix[$0 * n + column] }.reduce(0, +)
      let expected = column == 0 ? -4.5 / 58.4 : 0
      #expect(abs(sum - expected) <= 1e-15)
    }
  }

  @Test func rejectsNegativeClearanceNamingPatient() {
    var bad = Self.vancomycin
    bad.clearanceLitersPerHour = -1
    #expect {
      _ = try PharmacokineticBatch(parameters: [Self.vancomycin, bad], stepHours: 1)
    } throws: { error in
      let message = "\(error)"
      return message.contains("parameters[1].clearanceLitersPerHour")
        && message.contains("-1.0")
    }
  }

  @Test func rejectsMixedStructures() {
    let oneCompartment = CompartmentalParameters(
      clearanceLitersPerHour: 4, centralVolumeLiters: 50)
    #expect(throws: PharmacokineticError.self) {
      _ = try PharmacokineticBatch(
        parameters: [Self.vancomycin, oneCompartment], stepHours: 1)
    }
    #expect(throws: PharmacokineticError.self) {
      let batch = try PharmacokineticBatch(parameters: [Self.vancomycin], stepHours: 1)
      try batch.replaceParameters(at: 0, with: oneCompartment)
    }
  }

  @Test(arguments: [0.0, -0.5, Double.nan, Double.infinity])
  func rejectsInvalidStep(stepHours: Double) {
    #expect(throws: PharmacokineticError.self) {
      _ = try PharmacokineticBatch(parameters: [Self.vancomycin], stepHours: stepHours)
    }
  }

  @Test func rejectsEmptyBatch() {
    #expect(throws: PharmacokineticError.self) {
      _ = try PharmacokineticBatch(parameters: [], stepHours: 1)
    }
  }

  @Test func validationNamesEachParameter() {
    let cases: [(CompartmentalParameters, String)] = [
      (.init(clearanceLitersPerHour: .nan, centralVolumeLiters: 1), "clearanceLitersPerHour"),
      (.init(clearanceLitersPerHour: 1, centralVolumeLiters: 0), "centralVolumeLiters"),
      (
        .init(
          clearanceLitersPerHour: 1, centralVolumeLiters: 1,
          intercompartmentalClearancesLitersPerHour: [1], peripheralVolumesLiters: []),
        "intercompartmentalClearancesLitersPerHour"
      ),
      (
        .init(
          clearanceLitersPerHour: 1, centralVolumeLiters: 1,
          intercompartmentalClearancesLitersPerHour: [1], peripheralVolumesLiters: [-2]),
        "peripheralVolumesLiters[0]"
      ),
      (
        .init(clearanceLitersPerHour: 1, centralVolumeLiters: 1, absorptionRatePerHour: 0),
        "absorptionRatePerHour"
      ),
      (
        .init(
          clearanceLitersPerHour: 1, centralVolumeLiters: 1,
          effectSiteRatePerHour: .infinity),
        "effectSiteRatePerHour"
      ),
    ]
    for (parameters, name) in cases {
      #expect(throws: PharmacokineticError.self, "\(name)") { try parameters.validate() }
      do {
        try parameters.validate()
      } catch {
        #expect(error.parameter == name)
      }
    }
  }
}
