import Foundation
import Testing
import TitrateRandom

@testable import TitratePKPD

@Suite struct PopulationModelTests {
  /// Goti 2018 vancomycin model as a test case: CL = 4.5 (CrCl/120)^0.8
  /// 0.7^HD, V1 = 58.4 (WT/70) 0.5^HD, Q = 6.5, V2 = 38.4, with CV 39.8%
  /// on CL and 81.6% on V1.
  static func gotiModel() throws -> PopulationPharmacokineticModel {
    PopulationPharmacokineticModel(
      clearance: ParameterModel(
        typicalValue: 4.5,
        effects: [
          .power(covariate: "creatinineClearance", reference: 120, exponent: 0.8),
          .categorical(covariate: "hemodialysis", factor: 0.7),
        ], etaIndex: 0),
      centralVolume: ParameterModel(
        typicalValue: 58.4,
        effects: [
          .proportional(covariate: "weight", reference: 70),
          .categorical(covariate: "hemodialysis", factor: 0.5),
        ], etaIndex: 1),
      intercompartmentalClearances: [ParameterModel(typicalValue: 6.5)],
      peripheralVolumes: [ParameterModel(typicalValue: 38.4)],
      variability: try LogNormalVariability(coefficientsOfVariation: [0.398, 0.816]))
  }

  @Test func effectFactorsMatchFormulas() {
    let cases: [(CovariateEffect, Double, Double)] = [
      (.power(covariate: "c", reference: 120, exponent: 0.8), 60, pow(0.5, 0.8)),
      (.linear(covariate: "c", reference: 66, slope: 0.0154), 100, 1 + 0.0154 * 34),
      (.proportional(covariate: "c", reference: 70), 105, 1.5),
      (.categorical(covariate: "c", factor: 0.7), 1, 0.7),
      (.categorical(covariate: "c", factor: 0.7), 0, 1),
      (.exponential(covariate: "c", reference: 50, coefficient: -0.01), 70, exp(-0.2)),
    ]
    for (effect, value, expected) in cases {
      #expect(abs(effect.factor(covariateValue: value) - expected) <= 1e-15, "\(effect)")
    }
  }

  @Test func typicalGotiPatient() throws {
    let model = try Self.gotiModel()
    try model.validate()
    let covariates = ["creatinineClearance": 60.0, "weight": 91, "hemodialysis": 1]
    let patient = try model.parameters(covariates: covariates, etas: [0, 0])
    #expect(abs(patient.clearanceLitersPerHour - 4.5 * pow(0.5, 0.8) * 0.7) <= 1e-12)
    #expect(abs(patient.centralVolumeLiters - 58.4 * 1.3 * 0.5) <= 1e-12)
    #expect(patient.intercompartmentalClearancesLitersPerHour == [6.5])
    #expect(patient.peripheralVolumesLiters == [38.4])
    #expect(patient.absorptionRatePerHour == nil)
  }

  @Test func etaScalesParameter() throws {
    let model = try Self.gotiModel()
    let covariates = ["creatinineClearance": 120.0, "weight": 70, "hemodialysis": 0]
    let patient = try model.parameters(covariates: covariates, etas: [0.2, -0.1])
    #expect(abs(patient.clearanceLitersPerHour - 4.5 * exp(0.2)) <= 1e-12)
    #expect(abs(patient.centralVolumeLiters - 58.4 * exp(-0.1)) <= 1e-12)
  }

  @Test func lowerBoundFloorsLinearEffect() throws {
    // Thomson 2009 form: CL = 2.99 (1 + 0.0154 (CrCl - 66)) is negative at
    // CrCl 0; the floor keeps it positive.
    let clearance = ParameterModel(
      typicalValue: 2.99,
      effects: [.linear(covariate: "creatinineClearance", reference: 66, slope: 0.0154)],
      lowerBound: 0.05)
    let unbounded = try clearance.unboundedValue(covariates: ["creatinineClearance": 0])
    #expect(unbounded < 0)
    #expect(try clearance.value(covariates: ["creatinineClearance": 0]) == 0.05)
    let normal = try clearance.value(covariates: ["creatinineClearance": 66])
    #expect(abs(normal - 2.99) <= 1e-15)
  }

  @Test func missingCovariateNamed() throws {
    let model = try Self.gotiModel()
    #expect {
      _ = try model.parameters(covariates: ["weight": 70], etas: [0, 0])
    } throws: { error in
      "\(error)".contains("creatinineClearance") && "\(error)".contains("clearance")
    }
  }

  @Test func columnarValuesMatchRows() throws {
    let model = ParameterModel(
      typicalValue: 58.4, effects: [.proportional(covariate: "weight", reference: 70)])
    let weights = [50.0, 70, 140]
    let values = try model.values(covariates: ["weight": weights], etas: [0, 0.1, 0])
    #expect(abs(values[0] - 58.4 * 50 / 70) <= 1e-12)
    #expect(abs(values[1] - 58.4 * exp(0.1)) <= 1e-12)
    #expect(abs(values[2] - 58.4 * 2) <= 1e-12)
  }

  @Test func validationRejectsBadEtaIndex() throws {
    var model = try Self.gotiModel()
    model.peripheralVolumes[0].etaIndex = 5
    #expect {
      try model.validate()
    } throws: { error in
      "\(error)".contains("peripheralVolumes[0].etaIndex")
    }
  }

  @Test func sameSeedSameParameters() throws {
    let model = try Self.gotiModel()
    let covariates = ["creatinineClearance": 80.0, "weight": 75, "hemodialysis": 0]
    var first = Xoshiro256(seed: 2024, stream: 3)
    var second = Xoshiro256(seed: 2024, stream: 3)
    var other = Xoshiro256(seed: 2025, stream: 3)
    var differs = false
    for _ in 0..<50 {
      let a = try model.sample(covariates: covariates, using: &first)
      let b = try model.sample(covariates: covariates, using: &second)
      let c = try model.sample(covariates: covariates, using: &other)
      #expect(a == b)
      differs = differs || a != c
    }
    #expect(differs)
  }

  @Test func sampledClearanceMedianIsTypical() throws {
    let model = try Self.gotiModel()
    let covariates = ["creatinineClearance": 120.0, "weight": 70, "hemodialysis": 0]
    var generator = Xoshiro256(seed: 99)
    let clearances = try (0..<100_000).map { _ in
      try model.sample(covariates: covariates, using: &generator).clearanceLitersPerHour
    }.sorted()
    let median = 0.5 * (clearances[49_999] + clearances[50_000])
    #expect(abs(median / 4.5 - 1) <= 0.01)
  }

  @Test func cockcroftGaultValues() {
    // (140 - 40) x 70 / (72 x 1.0) = 97.2 mL/min; x 0.85 for women.
    let male = cockcroftGaultCreatinineClearance(
      ageYears: 40, weightKilograms: 70, serumCreatinineMilligramsPerDeciliter: 1.0,
      isFemale: false)
    #expect(abs(male - 7000.0 / 72) <= 1e-12)
    let female = cockcroftGaultCreatinineClearance(
      ageYears: 80, weightKilograms: 60, serumCreatinineMilligramsPerDeciliter: 1.5,
      isFemale: true)
    #expect(abs(female - 0.85 * 60 * 60 / (72 * 1.5)) <= 1e-12)
  }

  @Test func residualErrorMoments() throws {
    let model = ResidualErrorModel(additiveMilligramsPerLiter: 3.4, proportionalFraction: 0.227)
    try model.validate()
    var generator = Xoshiro256(seed: 7)
    let truth = 25.0
    var values: [Double] = []
    for _ in 0..<100_000 {
      values.append(
        model.measure(concentrationMilligramsPerLiter: truth, using: &generator)
          .valueMilligramsPerLiter)
    }
    let average = values.reduce(0, +) / Double(values.count)
    let variance =
      values.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(values.count - 1)
    // sd = sqrt((25 x 0.227)^2 + 3.4^2) = 6.61; mean standard error 0.021.
    let expectedVariance = pow(truth * 0.227, 2) + 3.4 * 3.4
    #expect(abs(average - truth) <= 0.1)
    #expect(abs(variance / expectedVariance - 1) <= 0.03)
  }

  @Test func negativeMeasurementReportedAsZero() throws {
    // With C = 0 and only additive error, half of the raw draws are negative.
    let model = ResidualErrorModel(additiveMilligramsPerLiter: 1, proportionalFraction: 0.2)
    var generator = Xoshiro256(seed: 8)
    var zeros = 0
    for _ in 0..<10_000 {
      let measurement = model.measure(concentrationMilligramsPerLiter: 0, using: &generator)
      #expect(measurement.valueMilligramsPerLiter >= 0)
      if measurement.wasNegativeReportedAsZero {
        zeros += 1
        #expect(measurement.valueMilligramsPerLiter == 0)
      }
    }
    // Binomial(10,000, 0.5): standard deviation 50; allow 300.
    #expect(abs(zeros - 5000) <= 300)
  }

  @Test func noErrorGivesTruth() {
    let model = ResidualErrorModel(additiveMilligramsPerLiter: 0, proportionalFraction: 0)
    var generator = Xoshiro256(seed: 9)
    let measurement = model.measure(concentrationMilligramsPerLiter: 12.5, using: &generator)
    #expect(measurement.valueMilligramsPerLiter == 12.5)
    #expect(!measurement.wasNegativeReportedAsZero)
  }

  @Test func residualValidationRejectsNegative() {
    let model = ResidualErrorModel(additiveMilligramsPerLiter: -1, proportionalFraction: 0.1)
    #expect(throws: PharmacokineticError.self) { try model.validate() }
  }
}
