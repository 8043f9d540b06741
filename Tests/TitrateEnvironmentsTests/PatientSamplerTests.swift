import Foundation
import Testing
import TitratePKPD
import TitrateRandom

@testable import TitrateEnvironments

@Suite struct PatientSamplerTests {
  static let sampleSize = 20_000

  func sample(_ population: String, seed: UInt64 = 9) -> (PatientSampler, [VirtualPatient]) {
    let sampler = PatientSampler(definition: shippedDefinition, populationName: population)
    var generator = Xoshiro256(seed: seed)
    let patients = (0..<Self.sampleSize).map { _ in sampler.samplePatient(using: &generator) }
    return (sampler, patients)
  }

  func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

  func standardDeviation(_ values: [Double]) -> Double {
    let center = mean(values)
    return (values.reduce(0) { $0 + ($1 - center) * ($1 - center) } / Double(values.count - 1))
      .squareRoot()
  }

  func normalDensity(_ x: Double) -> Double { exp(-x * x / 2) / (2 * Double.pi).squareRoot() }

  @Test func haematologyCovariatesFollowBuelgaCohort() {
    let (_, patients) = sample("haematology")
    // Mean of N(51.5, 15.9) truncated to [18, 90]:
    // mu + sigma (phi(a) - phi(b)) / (Phi(b) - Phi(a)).
    let (a, b) = ((18 - 51.5) / 15.9, (90 - 51.5) / 15.9)
    let expectedAge =
      51.5 + 15.9 * (normalDensity(a) - normalDensity(b))
      / (standardNormalCDF(b) - standardNormalCDF(a))
    let ages = patients.map(\.ageYears)
    // Standard error 15.9 / sqrt(20000) = 0.11 years; 0.5 is 4.5 SE.
    #expect(abs(mean(ages) - expectedAge) < 0.5)
    #expect(ages.min()! >= 18)
    #expect(ages.max()! <= 90)
    let femaleFraction = mean(patients.map { $0.isFemale ? 1 : 0 })
    // Standard error 0.0035.
    #expect(abs(femaleFraction - 0.447) < 0.015)
    #expect(patients.allSatisfy { !$0.onHaemodialysis })
    let creatinine = patients.map(\.serumCreatinineMilligramsPerDeciliter).sorted()
    // Median of the log-normal, barely moved by the [0.4, 3] truncation.
    #expect(abs(creatinine[creatinine.count / 2] - 0.83) < 0.02)
  }

  @Test func obeseWeightsAndDialysisRate() {
    let (_, patients) = sample("obese")
    let weights = patients.map(\.weightKilograms).sorted()
    #expect(weights.first! >= 95)
    #expect(weights.last! <= 250)
    // The 95-kg floor cuts about 6 % of the lower tail, raising the median
    // from 125 kg to about 127 kg.
    #expect(abs(weights[weights.count / 2] - 126.9) < 1.5)
    let dialysis = mean(patients.map { $0.onHaemodialysis ? 1 : 0 })
    #expect(abs(dialysis - 0.05) < 0.006)
  }

  @Test func gotiClearanceVariabilityMatchesCV() {
    let (sampler, patients) = sample("icu_arc")
    let etas = patients.map { patient in
      let typical = sampler.individualParameters(
        ageYears: patient.ageYears, weightKilograms: patient.weightKilograms,
        isFemale: patient.isFemale,
        serumCreatinineMilligramsPerDeciliter: patient.serumCreatinineMilligramsPerDeciliter,
        onHaemodialysis: patient.onHaemodialysis, etas: [0, 0, 0, 0])
      return log(patient.parameters.clearanceLitersPerHour / typical.clearanceLitersPerHour)
    }
    // omega^2 = ln(1 + 0.398^2) = 0.14705; SE of the SD about 0.002.
    #expect(abs(standardDeviation(etas) - 0.14705.squareRoot()) < 0.01)
    #expect(abs(mean(etas)) < 0.01)
  }

  @Test func thomsonEtaCorrelationIsReproduced() {
    let (sampler, patients) = sample("elderly_renal")
    var clearanceEtas: [Double] = []
    var volumeEtas: [Double] = []
    for patient in patients {
      let typical = sampler.individualParameters(
        ageYears: patient.ageYears, weightKilograms: patient.weightKilograms,
        isFemale: patient.isFemale,
        serumCreatinineMilligramsPerDeciliter: patient.serumCreatinineMilligramsPerDeciliter,
        onHaemodialysis: false, etas: [0, 0, 0, 0])
      clearanceEtas.append(
        log(patient.parameters.clearanceLitersPerHour / typical.clearanceLitersPerHour))
      volumeEtas.append(
        log(patient.parameters.centralVolumeLiters / typical.centralVolumeLiters))
    }
    let (meanCL, meanV) = (mean(clearanceEtas), mean(volumeEtas))
    var covariance = 0.0
    for (x, y) in zip(clearanceEtas, volumeEtas) { covariance += (x - meanCL) * (y - meanV) }
    covariance /= Double(patients.count - 1)
    let correlation =
      covariance / (standardDeviation(clearanceEtas) * standardDeviation(volumeEtas))
    // SE of r about (1 - r^2) / sqrt(n) = 0.0066.
    #expect(abs(correlation - 0.247) < 0.03)
    #expect(abs(standardDeviation(volumeEtas) - 0.15) < 0.005)
  }

  @Test func gotiCreatinineRulesCapAndFloor() {
    let sampler = PatientSampler(definition: shippedDefinition, populationName: "icu_arc")
    // Age 70, SCr 0.7 raised to 1.0: (140 - 70) x 70 / 72 = 68.06 mL/min.
    let elderly = sampler.modelCreatinineClearance(
      ageYears: 70, weightKilograms: 70, isFemale: false,
      serumCreatinineMilligramsPerDeciliter: 0.7)
    #expect(abs(elderly - 70.0 * 70 / 72) < 1e-9)
    // Age 30: no floor; (110 x 80) / (72 x 0.6) = 203.7, capped at 150.
    let young = sampler.modelCreatinineClearance(
      ageYears: 30, weightKilograms: 80, isFemale: false,
      serumCreatinineMilligramsPerDeciliter: 0.6)
    #expect(young == 150)
    let typical = sampler.individualParameters(
      ageYears: 70, weightKilograms: 70, isFemale: false,
      serumCreatinineMilligramsPerDeciliter: 0.7, onHaemodialysis: true, etas: [0, 0, 0, 0])
    #expect(abs(typical.clearanceLitersPerHour - 4.5 * pow(elderly / 120, 0.8) * 0.7) < 1e-12)
    #expect(abs(typical.centralVolumeLiters - 58.4 * 0.5) < 1e-12)
    #expect(typical.peripheralVolumesLiters == [38.4])
  }

  /// Each adjustment of a rule with every field set, and the boundary
  /// age at which the creatinine floor does not apply yet.
  @Test func creatinineRuleReportsAdjustments() {
    let rule = CreatinineClearanceRule(
      maximumMillilitersPerMinute: 150, minimumMillilitersPerMinute: 20,
      serumCreatinineFloorMilligramsPerDeciliter: 1.0, serumCreatinineFloorAboveAgeYears: 65)
    // SCr 0.7 raised to 1.0: 70 x 70 / 72 = 68.06 mL/min.
    let floored = rule.adjustedClearance(
      ageYears: 70, weightKilograms: 70, isFemale: false,
      serumCreatinineMilligramsPerDeciliter: 0.7)
    #expect(floored.millilitersPerMinute == 70.0 * 70 / 72)
    #expect(floored.serumCreatinineMilligramsPerDeciliter == 1.0)
    #expect(floored.creatinineFloorApplied)
    #expect(!floored.capApplied)
    #expect(!floored.minimumApplied)
    // Age 65 is not above 65: 75 x 80 / (72 x 0.5) = 166.7, capped.
    let capped = rule.adjustedClearance(
      ageYears: 65, weightKilograms: 80, isFemale: false,
      serumCreatinineMilligramsPerDeciliter: 0.5)
    #expect(capped.millilitersPerMinute == 150)
    #expect(capped.serumCreatinineMilligramsPerDeciliter == 0.5)
    #expect(!capped.creatinineFloorApplied)
    #expect(capped.capApplied)
    #expect(!capped.minimumApplied)
    // 0.85 x 50 x 50 / (72 x 6) = 4.9 mL/min, raised to 20.
    let raised = rule.adjustedClearance(
      ageYears: 90, weightKilograms: 50, isFemale: true,
      serumCreatinineMilligramsPerDeciliter: 6)
    #expect(raised.millilitersPerMinute == 20)
    #expect(!raised.creatinineFloorApplied)
    #expect(!raised.capApplied)
    #expect(raised.minimumApplied)
    // SCr above the floor, clearance within the limits: nothing changes.
    let unchanged = rule.adjustedClearance(
      ageYears: 70, weightKilograms: 70, isFemale: false,
      serumCreatinineMilligramsPerDeciliter: 1.4)
    #expect(unchanged.millilitersPerMinute == 70.0 * 70 / (72 * 1.4))
    #expect(!unchanged.creatinineFloorApplied)
    #expect(!unchanged.capApplied)
    #expect(!unchanged.minimumApplied)
  }

  @Test func thomsonClearanceIsFloored() {
    let sampler = PatientSampler(definition: shippedDefinition, populationName: "elderly_renal")
    // Age 90, 50 kg, SCr 6: CrCl = 50 x 50 / 432 = 5.8 mL/min, where the
    // linear model gives 0.21 L/h, below the 0.3 L/h floor.
    let floored = sampler.individualParameters(
      ageYears: 90, weightKilograms: 50, isFemale: false,
      serumCreatinineMilligramsPerDeciliter: 6, onHaemodialysis: false, etas: [0, 0, 0, 0])
    #expect(floored.clearanceLitersPerHour == 0.3)
    #expect(abs(floored.centralVolumeLiters - 0.675 * 50) < 1e-12)
    let normal = sampler.individualParameters(
      ageYears: 74, weightKilograms: 72, isFemale: false,
      serumCreatinineMilligramsPerDeciliter: 1, onHaemodialysis: false, etas: [0, 0, 0, 0])
    // CrCl = 66 x 72 / 72 = 66 mL/min, the reference: CL = 2.99 L/h.
    #expect(abs(normal.clearanceLitersPerHour - 2.99) < 1e-12)
  }

  @Test func buelgaClearanceIsProportionalToCreatinineClearance() {
    let sampler = PatientSampler(definition: shippedDefinition, populationName: "haematology")
    let typical = sampler.individualParameters(
      ageYears: 50, weightKilograms: 65, isFemale: true,
      serumCreatinineMilligramsPerDeciliter: 0.9, onHaemodialysis: false, etas: [0, 0])
    let crcl = 0.85 * 90 * 65 / (72 * 0.9)
    #expect(abs(typical.clearanceLitersPerHour - 1.08 * crcl * 0.06) < 1e-12)
    #expect(abs(typical.centralVolumeLiters - 0.98 * 65) < 1e-12)
    #expect(typical.peripheralCount == 0)
  }
}
