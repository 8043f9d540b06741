import Foundation
import Testing
import TitratePKPD

@testable import TitrateEnvironments

/// The shipped propofol definition, loaded once.
let shippedPropofolDefinition: PropofolDefinition = {
  let url = repositoryRoot.appendingPathComponent("Environments/pkpd/propofol.json")
  do {
    return try PropofolDefinition.load(from: url)
  } catch {
    fatalError("shipped propofol definition failed to load: \(error)")
  }
}()

/// One case of Tests/Fixtures/propofol/reference.json.
private struct ReferenceCase: Decodable {
  struct Patient: Decodable {
    var name: String
    var ageYears: Double
    var weightKilograms: Double
    var heightCentimeters: Double
    var female: Bool
  }
  var patient: Patient
  var parameters: [String: Double]
  var timesMinutes: [Double]
  var centralMilligramsPerLiter: [Double]
  var effectSiteMilligramsPerLiter: [Double]
  var bis: [Double]
}

private struct ReferenceFile: Decodable {
  struct Interval: Decodable {
    var startMinutes: Double
    var endMinutes: Double
    var rateMicrogramsPerKilogramPerMinute: Double
  }
  var bolusMilligramsPerKilogram: Double
  var schedule: [Interval]
  var cases: [ReferenceCase]
}

private let reference: ReferenceFile = {
  let url = repositoryRoot.appendingPathComponent("Tests/Fixtures/propofol/reference.json")
  return try! JSONDecoder().decode(ReferenceFile.self, from: Data(contentsOf: url))
}()

@Suite struct PropofolModelTests {
  @Test func typicalPatientMatchesSchnider() throws {
    // Schnider 1998 reference covariates: 53 y, 77 kg, 177 cm, male.
    let model = shippedPropofolDefinition.model
    let p = try #require(
      model.parameters(ageYears: 53, weightKilograms: 77, heightCentimeters: 177, isFemale: false))
    #expect(abs(p.leanBodyMassKilograms - 60.476) < 1e-3)
    #expect(abs(p.clearanceLitersPerMinute - 1.7895) < 1e-4)
    #expect(p.fastPeripheralVolumeLiters == 18.9)
    #expect(p.fastIntercompartmentalClearanceLitersPerMinute == 1.29)
    #expect(p.centralVolumeLiters == 4.27)
    #expect(p.slowPeripheralVolumeLiters == 238)
  }

  @Test func jamesLeanBodyMassFallsPastPeak() {
    // A 160 cm woman: the James LBM peaks at 1.07 * 160^2 / 296 = 92.5 kg
    // and drops to about 30 kg at 150 kg, which raises CL1 to about 6.7 L/min.
    let james = LeanBodyMassFormula.james
    let peak = james.peakWeightKilograms(heightCentimeters: 160, isFemale: true)
    #expect(abs(peak - 92.54) < 0.01)
    let atPeak = james.leanBodyMassKilograms(
      weightKilograms: peak, heightCentimeters: 160, isFemale: true)
    let obese = james.leanBodyMassKilograms(
      weightKilograms: 150, heightCentimeters: 160, isFemale: true)
    #expect(obese < atPeak - 15)
    #expect(abs(obese - 30.42) < 0.01)
    let janmahasatian = LeanBodyMassFormula.janmahasatian.leanBodyMassKilograms(
      weightKilograms: 150, heightCentimeters: 160, isFemale: true)
    #expect(janmahasatian > atPeak - 10)
  }

  @Test func parametersMatchReferenceScript() throws {
    let model = shippedPropofolDefinition.model
    for item in reference.cases {
      let patient = item.patient
      let p = try #require(
        model.parameters(
          ageYears: patient.ageYears, weightKilograms: patient.weightKilograms,
          heightCentimeters: patient.heightCentimeters, isFemale: patient.female))
      #expect(abs(p.clearanceLitersPerMinute - item.parameters["cl1"]!) < 1e-12, "\(patient.name)")
      #expect(abs(p.fastPeripheralVolumeLiters - item.parameters["v2"]!) < 1e-12)
      #expect(
        abs(p.fastIntercompartmentalClearanceLitersPerMinute - item.parameters["cl2"]!) < 1e-12)
      #expect(abs(p.leanBodyMassKilograms - item.parameters["leanBodyMassKilograms"]!) < 1e-12)
    }
  }

  /// Exact stepping on a 1 s grid against scipy Radau (rtol 1e-10): the
  /// linear system is solved exactly, so only round-off separates them.
  @Test func trajectoriesMatchReferenceScript() throws {
    let definition = shippedPropofolDefinition
    let stepSeconds = 1.0
    for item in reference.cases {
      let patient = item.patient
      let p = try #require(
        definition.model.parameters(
          ageYears: patient.ageYears, weightKilograms: patient.weightKilograms,
          heightCentimeters: patient.heightCentimeters, isFemale: patient.female))
      let batch = try PharmacokineticBatch(
        parameters: [p.compartmentalParameters], stepHours: stepSeconds / 3600)
      batch.addBolus(
        milligrams: [reference.bolusMilligramsPerKilogram * patient.weightKilograms],
        into: .central)
      var worstCentral = 0.0
      var worstEffect = 0.0
      var worstBIS = 0.0
      var second = 0
      for (index, minutes) in item.timesMinutes.enumerated() {
        while Double(second) < minutes * 60 - 1e-9 {
          let now = Double(second) / 60
          let interval = reference.schedule.first { now >= $0.startMinutes && now < $0.endMinutes }
          let rate =
            (interval?.rateMicrogramsPerKilogramPerMinute ?? 0)
            * patient.weightKilograms / 1000 * 60
          batch.advance(infusionRatesMilligramsPerHour: [rate])
          second += 1
        }
        let central = batch.centralConcentration(patient: 0)
        let effect = batch.stateValues(of: .effectSite)[0]
        let bis = definition.bis.bis(effectSiteMilligramsPerLiter: effect)
        worstCentral = max(
          worstCentral, abs(central - item.centralMilligramsPerLiter[index]))
        worstEffect = max(worstEffect, abs(effect - item.effectSiteMilligramsPerLiter[index]))
        worstBIS = max(worstBIS, abs(bis - item.bis[index]))
      }
      #expect(worstCentral < 1e-6, "\(patient.name): central error \(worstCentral) mg/L")
      #expect(worstEffect < 1e-6, "\(patient.name): effect-site error \(worstEffect) mg/L")
      #expect(worstBIS < 1e-5, "\(patient.name): BIS error \(worstBIS)")
    }
  }

  @Test func sigmoidEmaxInverseRoundTrips() throws {
    let bis = shippedPropofolDefinition.bis
    #expect(abs(bis.bis(effectSiteMilligramsPerLiter: 4.47) - 97.4 / 2) < 1e-12)
    #expect(bis.bis(effectSiteMilligramsPerLiter: 0) == 97.4)
    let ce = try #require(bis.effectSiteConcentration(forBIS: 50))
    #expect(abs(bis.bis(effectSiteMilligramsPerLiter: ce) - 50) < 1e-9)
    #expect(bis.effectSiteConcentration(forBIS: -1) == nil)
  }

  @Test func extremeAgeHasNoParameters() {
    let model = shippedPropofolDefinition.model
    #expect(
      model.parameters(ageYears: 105, weightKilograms: 70, heightCentimeters: 170, isFemale: true)
        == nil)
  }
}
