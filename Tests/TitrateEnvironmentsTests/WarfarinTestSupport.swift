import Foundation
import TitratePKPD

@testable import TitrateEnvironments

/// The shipped warfarin definition file.
let warfarinDefinitionURL = repositoryRoot.appendingPathComponent(
  "Environments/pkpd/warfarin.json")

/// The shipped warfarin definition, loaded once.
let warfarinDefinition: WarfarinDefinition = {
  do {
    return try WarfarinDefinition.load(from: warfarinDefinitionURL)
  } catch {
    fatalError("shipped warfarin definition failed to load: \(error)")
  }
}()

/// Returns the typical patient (no between-subject variability) of an age
/// and genotype under the shipped definition.
func typicalWarfarinParameters(
  ageYears: Double = 71, cyp2c9: CYP2C9Genotype = .star1Star1, vkorc1: VKORC1Genotype
) -> WarfarinParameters {
  WarfarinPatientSampler(definition: warfarinDefinition).parameters(
    ageYears: ageYears, cyp2c9: cyp2c9, vkorc1: vkorc1, etas: [0, 0, 0, 0, 0, 0])
}

/// A one-model simulation helper: racemic daily doses at t = 24 k h, RK4
/// at `stepHours`, calling `observe(hour index, state)` after every hour.
func simulateWarfarin(
  parameters: [WarfarinParameters], racemicDosesMilligrams: [[Double]], stepHours: Double,
  observe: (Int, WarfarinBatchModel, UnsafePointer<Double>) -> Void
) {
  let model = WarfarinBatchModel(
    parameters: parameters, fastChainCompartments: 6, slowChainCompartments: 1)
  let n = parameters.count
  let integrator = BatchedRungeKutta4(
    stateCount: model.stateCount, patientCount: n,
    nonNegativeComponents: WarfarinBatchModel.nonNegativeComponents)
  var state = model.initialState()
  let stepsPerHour = Int((1 / stepHours).rounded())
  var hour = 0
  state.withUnsafeBufferPointer { observe(0, model, $0.baseAddress!) }
  for doses in racemicDosesMilligrams {
    for p in 0..<n { state[WarfarinBatchModel.depot * n + p] += 0.5 * doses[p] }
    for _ in 0..<24 {
      integrator.advance(
        &state, fromHours: Double(hour), steps: stepsPerHour, stepHours: stepHours,
        rightHandSide: model)
      hour += 1
      state.withUnsafeBufferPointer { observe(hour, model, $0.baseAddress!) }
    }
  }
}
