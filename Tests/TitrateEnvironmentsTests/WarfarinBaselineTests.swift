import Foundation
import Testing

@testable import TitrateEnvironments

/// Checks the IWPC start doses and the INR-based adjustment protocol.
@Suite struct WarfarinBaselineTests {
  /// Returns a typical patient with the given covariates.
  static func patient(
    ageYears: Double, heightCentimeters: Double, weightKilograms: Double,
    cyp2c9: CYP2C9Genotype, vkorc1: VKORC1Genotype
  ) -> WarfarinPatient {
    WarfarinPatient(
      ageYears: ageYears, weightKilograms: weightKilograms, heightCentimeters: heightCentimeters,
      isFemale: false, cyp2c9: cyp2c9, vkorc1: vkorc1,
      parameters: typicalWarfarinParameters(ageYears: ageYears, cyp2c9: cyp2c9, vkorc1: vkorc1))
  }

  static let averagePatient = patient(
    ageYears: 71, heightCentimeters: 170, weightKilograms: 80, cyp2c9: .star1Star1, vkorc1: .ga)
  static let sensitivePatient = patient(
    ageYears: 85, heightCentimeters: 160, weightKilograms: 60, cyp2c9: .star3Star3, vkorc1: .aa)

  @Test func iwpcWeeklyDosesForHandWorkedPatients() {
    let baselines = warfarinDefinition.baselines
    let average = Self.averagePatient
    // Pharmacogenetic: 5.6044 - 0.2614 x 7 + 0.0087 x 170 + 0.0128 x 80
    // - 0.8677 (GA) = 5.4099; squared 29.26702 mg/week.
    let pharmacogenetic = baselines.iwpcPharmacogenetic.weeklyDoseMilligrams(
      ageYears: average.ageYears, heightCentimeters: average.heightCentimeters,
      weightKilograms: average.weightKilograms, cyp2c9: average.cyp2c9, vkorc1: average.vkorc1)
    #expect(abs(pharmacogenetic - 29.26701801) < 1e-6)
    // Clinical: 4.0376 - 0.2546 x 7 + 0.0118 x 170 + 0.0134 x 80 = 5.3334;
    // squared 28.44516 mg/week.
    let clinical = baselines.iwpcClinical.weeklyDoseMilligrams(
      ageYears: average.ageYears, heightCentimeters: average.heightCentimeters,
      weightKilograms: average.weightKilograms, cyp2c9: average.cyp2c9, vkorc1: average.vkorc1)
    #expect(abs(clinical - 28.44515556) < 1e-6)
    // 85 years (decade 8), 160 cm, 60 kg, *3/*3, AA: 5.6044 - 2.0912
    // + 1.392 + 0.768 - 1.6974 - 2.3312 = 1.6446; squared 2.70471 mg/week.
    let sensitive = Self.sensitivePatient
    let low = baselines.iwpcPharmacogenetic.weeklyDoseMilligrams(
      ageYears: sensitive.ageYears, heightCentimeters: sensitive.heightCentimeters,
      weightKilograms: sensitive.weightKilograms, cyp2c9: sensitive.cyp2c9,
      vkorc1: sensitive.vkorc1)
    #expect(abs(low - 2.70470916) < 1e-6)
  }

  @Test func startDosesRoundToTabletSteps() throws {
    let environment = try WarfarinEnvironment(definition: warfarinDefinition, batchSize: 2)
    try environment.setPatients([Self.averagePatient, Self.sensitivePatient])
    // 29.267 / 7 = 4.18 mg -> 4.0 mg (level 8); 2.705 / 7 = 0.39 mg ->
    // 0.5 mg (level 1, also the protocol minimum).
    #expect(try environment.baselineActions(named: "iwpc_pharmacogenetic") == [8, 1])
    // Clinical: 28.445 / 7 = 4.06 -> 4.0 mg; the sensitive patient's
    // clinical dose has no genotype terms: (4.0376 - 2.0368 + 1.888
    // + 0.804)^2 / 7 = 4.6928^2 / 7 = 3.15 -> 3.0 mg (level 6).
    #expect(try environment.baselineActions(named: "iwpc_clinical") == [8, 6])
    #expect(try environment.baselineActions(named: "fixed_5mg") == [10, 10])
  }

  @Test func bandsCoverEveryINR() {
    let adjustment = warfarinDefinition.baselines.adjustment
    let cases: [(Double, Double, Int)] = [
      (1.0, 0.15, 0), (1.5, 0.10, 0), (1.9, 0.10, 0), (2.0, 0, 0), (3.0, 0, 0), (3.1, -0.10, 0),
      (3.9, -0.10, 0), (4.0, -0.10, 1), (5.0, -0.15, 2), (9.0, -0.15, 2),
    ]
    for (inr, change, hold) in cases {
      let band = adjustment.band(for: inr)
      #expect(band.weeklyDoseChangeFraction == change, "INR \(inr)")
      #expect(band.holdDays == hold, "INR \(inr)")
    }
  }

  @Test func highINRHoldsThenLowersAndLowINRRaises() throws {
    let environment = try WarfarinEnvironment(definition: warfarinDefinition, batchSize: 2)
    try environment.setPatients([Self.averagePatient, Self.averagePatient])
    let name = "iwpc_pharmacogenetic"
    // Days 1-4 (measurements on days 1 and 3 are before the first
    // adjustment day 5, and both INRs are below 4): 4.0 mg every day.
    for _ in 0..<4 {
      #expect(try environment.baselineActions(named: name) == [8, 8])
      _ = environment.step(actions: try environment.baselineActions(named: name))
    }
    // Day 5 morning: force the reported INRs to 4.5 and 1.2.
    #expect(environment.records.measuredToday)
    let latest = (environment.records.measurementsTaken - 1) * 2
    environment.records.measuredINR[latest] = 4.5
    environment.records.measuredINR[latest + 1] = 1.2
    // 4.5: hold one day, then 29.267 x 0.9 / 7 = 3.76 -> 4.0 mg.
    // 1.2: 29.267 x 1.15 / 7 = 4.81 -> 5.0 mg (level 10).
    let dayFive = try environment.baselineActions(named: name)
    #expect(dayFive == [0, 10])
    // A second call on the same day does not adjust again.
    #expect(try environment.baselineActions(named: name) == dayFive)
    _ = environment.step(actions: dayFive)
    #expect(try environment.baselineActions(named: name) == [8, 10])
  }

  @Test(
    .enabled(if: ProcessInfo.processInfo.environment["TITRATE_WARFARIN_FIGURES"] != nil))
  func baselineFiguresForDocs() throws {
    // Figures for Docs/environments/warfarin.md (printed, not checked):
    // TITRATE_WARFARIN_FIGURES=1 swift test --filter baselineFiguresForDocs
    let environment = try WarfarinEnvironment(definition: warfarinDefinition, batchSize: 500)
    environment.recordsOutcomeTable = true
    environment.automaticallyResets = false
    for name in environment.baselineNames {
      _ = environment.reset(seed: 7)
      for _ in 0..<warfarinDefinition.dosing.episodeDays {
        _ = environment.step(actions: try environment.baselineActions(named: name))
      }
      let table = environment.drainOutcomeTable()
      let columns = [
        "ttrMeasured", "ttrTrueDaily", "timeBelowRangeTrueDaily", "timeAboveRangeTrueDaily",
        "timeAboveBleedingThresholdTrueDaily", "timeInRangeGrid", "maximumTrueINR",
      ]
      let values = columns.map { "\($0) \(String(format: "%.4f", table.mean(of: $0)!))" }
      print(
        "warfarin baseline \(name) (\(table.rowCount) patients, seed 7): "
          + values.joined(separator: ", "))
    }
  }
}
