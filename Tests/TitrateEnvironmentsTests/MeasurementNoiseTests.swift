import Foundation
import Testing
import TitratePKPD
import TitrateRandom

@testable import TitrateEnvironments

@Suite struct MeasurementNoiseTests {
  @Test func bulkAssayValueMatchesResidualErrorModel() {
    let model = ResidualErrorModel(additiveMilligramsPerLiter: 3.4, proportionalFraction: 0.227)
    for seed: UInt64 in 0..<200 {
      for concentration in [0.0, 0.5, 4, 17.3, 60] {
        var drawing = Xoshiro256(seed: seed)
        var measuring = Xoshiro256(seed: seed)
        let (proportional, additive) = drawing.nextStandardNormalPair()
        let value = model.unreportedAssayValue(
          concentrationMilligramsPerLiter: concentration, proportionalDraw: proportional,
          additiveDraw: additive)
        let measurement = model.measure(
          concentrationMilligramsPerLiter: concentration, using: &measuring)
        #expect(max(value, 0) == measurement.valueMilligramsPerLiter, "seed \(seed)")
        #expect((value < 0) == measurement.wasNegativeReportedAsZero, "seed \(seed)")
      }
    }
  }

  @Test func measuredTroughsScatterByResidualError() throws {
    // 3000 copies of one slow-clearing patient on 3000 mg. The first trough
    // is drawn 0.5 h before dose 2. With the true trough C, (measured - C) /
    // sqrt((0.227 C)^2 + 3.4^2) is standard normal (the residual error of
    // the shipped Goti 2018 model), and C is high enough that a report of 0 is very unlikely.
    let count = 3000
    let environment = try VancomycinEnvironment(
      definition: shippedDefinition, populationName: "icu_arc", batchSize: count)
    _ = environment.reset(seed: 12)
    let slowClearance = CompartmentalParameters(
      clearanceLitersPerHour: 2, centralVolumeLiters: 40,
      intercompartmentalClearancesLitersPerHour: [6.5], peripheralVolumesLiters: [60])
    try environment.setPatients(
      [VirtualPatient](repeating: makePatient(parameters: slowClearance), count: count))
    let observations = environment.step(actions: [Float](repeating: 12, count: count))
      .observations
    let model = environment.residualError
    // The true trough, simulated here on the environment's grid: the
    // infusion of 3000 mg, then no drug until the draw.
    let rules = shippedDefinition.dosing
    let infusionSteps = rules.infusionSteps(doseMilligrams: 3000)
    let troughStep =
      rules.stepsPerDecision
      - Int(
        (shippedDefinition.measurements.troughHoursBeforeDose / rules.simulationStepHours)
          .rounded())
    let reference = try PharmacokineticBatch(
      parameters: [slowClearance], stepHours: rules.simulationStepHours)
    reference.prepareJumps(maximumSteps: rules.stepsPerDecision)
    reference.advance(
      patient: 0, steps: infusionSteps,
      infusionRateMilligramsPerHour: 3000 / (Double(infusionSteps) * rules.simulationStepHours))
    reference.advance(
      patient: 0, steps: troughStep - infusionSteps, infusionRateMilligramsPerHour: 0)
    let truth = reference.centralConcentration(patient: 0)
    let proportionalPart = model.proportionalFraction * truth
    let standardDeviation =
      (proportionalPart * proportionalPart
      + model.additiveMilligramsPerLiter * model.additiveMilligramsPerLiter).squareRoot()
    // 3.7 standard deviations: a report of 0 has probability 1e-4.
    try #require(truth > 3.7 * standardDeviation, "true trough \(truth) mg/L")

    var scores: [Double] = []
    for p in 0..<count {
      let row = p * environment.observationSize
      #expect(observations[row + VancomycinObservation.troughAvailable] == 1)
      let measured = Double(observations[row + VancomycinObservation.troughMilligramsPerLiter])
      scores.append((measured - truth) / standardDeviation)
    }
    let n = Double(count)
    let mean = scores.reduce(0, +) / n
    let variance = scores.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
    // 5 standard errors. The Float observation adds about 1e-7 relative.
    #expect(abs(mean) < 5 / n.squareRoot(), "mean \(mean)")
    #expect(abs(variance - 1) < 5 * (2 / n).squareRoot(), "variance \(variance)")
    #expect(Set(scores).count > count - 10, "draws repeat across patients")
  }
}
