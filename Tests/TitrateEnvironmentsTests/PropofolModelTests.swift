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

private func loadReference(_ name: String) -> ReferenceFile {
  let url = repositoryRoot.appendingPathComponent("Tests/Fixtures/propofol/\(name)")
  return try! JSONDecoder().decode(ReferenceFile.self, from: Data(contentsOf: url))
}

private let reference = loadReference("reference.json")
private let eleveldReference = loadReference("reference_eleveld.json")

/// The shipped definition switched to the Eleveld PK.
private let eleveldDefinition: PropofolDefinition = {
  var definition = shippedPropofolDefinition
  definition.pharmacokineticModel = .eleveld
  return definition
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

  @Test(arguments: [PropofolPharmacokineticModel.schnider, .eleveld])
  func parametersMatchReferenceScript(model: PropofolPharmacokineticModel) throws {
    let definition = model == .schnider ? shippedPropofolDefinition : eleveldDefinition
    let sampler = PropofolPatientSampler(definition: definition)
    for item in (model == .schnider ? reference : eleveldReference).cases {
      let patient = item.patient
      let p = try sampler.patient(
        ageYears: patient.ageYears, weightKilograms: patient.weightKilograms,
        heightCentimeters: patient.heightCentimeters, isFemale: patient.female
      ).pharmacokinetics
      let expected = item.parameters
      let pairs: [(String, Double)] = [
        ("v1", p.centralVolumeLiters), ("v2", p.fastPeripheralVolumeLiters),
        ("v3", p.slowPeripheralVolumeLiters), ("cl1", p.clearanceLitersPerMinute),
        ("cl2", p.fastIntercompartmentalClearanceLitersPerMinute),
        ("cl3", p.slowIntercompartmentalClearanceLitersPerMinute),
        ("ke0", p.effectSiteRatePerMinute), ("leanBodyMassKilograms", p.leanBodyMassKilograms),
      ]
      for (key, value) in pairs {
        let error = abs(value - expected[key]!) / expected[key]!
        #expect(error < 1e-12, "\(patient.name) \(key): \(value) vs \(expected[key]!)")
      }
    }
  }

  /// Exact stepping on a 1 s grid against scipy Radau (rtol 1e-10): the
  /// linear system is solved exactly, so only round-off separates them.
  @Test(arguments: [PropofolPharmacokineticModel.schnider, .eleveld])
  func trajectoriesMatchReferenceScript(model: PropofolPharmacokineticModel) throws {
    let definition = model == .schnider ? shippedPropofolDefinition : eleveldDefinition
    let sampler = PropofolPatientSampler(definition: definition)
    let stepSeconds = 1.0
    for item in (model == .schnider ? reference : eleveldReference).cases {
      let patient = item.patient
      let p = try sampler.patient(
        ageYears: patient.ageYears, weightKilograms: patient.weightKilograms,
        heightCentimeters: patient.heightCentimeters, isFemale: patient.female
      ).pharmacokinetics
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

@Suite struct EleveldModelTests {
  /// The reference patient (35 y, 70 kg, 170 cm man, no opioids) gets the
  /// reference values: V1 6.28, V2 25.5, V3 273 L, CL 1.79, Q3 1.11 L/min,
  /// ke0 0.146 /min; Q2 = 1.75 x (1 + 1.30 (1 - sigmoid(1860, 68.3, 1))).
  @Test func referencePatientGetsThetas() throws {
    let eleveld = shippedPropofolDefinition.eleveld
    let p = try #require(
      eleveld.parameters(ageYears: 35, weightKilograms: 70, heightCentimeters: 170, isFemale: false)
    )
    #expect(abs(p.centralVolumeLiters - 6.28) < 1e-12)
    #expect(abs(p.fastPeripheralVolumeLiters - 25.5) < 1e-12)
    #expect(abs(p.slowPeripheralVolumeLiters - 273) < 1e-9)
    #expect(abs(p.clearanceLitersPerMinute - 1.79) < 1e-12)
    #expect(abs(p.slowIntercompartmentalClearanceLitersPerMinute - 1.11) < 1e-12)
    #expect(abs(p.effectSiteRatePerMinute - 0.146) < 1e-12)
    let q3Maturation = 1860.0 / (1860 + 68.3)
    let q2 = 1.75 * (1 + 1.30 * (1 - q3Maturation))
    #expect(abs(p.fastIntercompartmentalClearanceLitersPerMinute - q2) < 1e-12)
  }

  /// Opioids lower CL by exp(-0.00286 age) and V3 by exp(-0.0138 age).
  @Test func opioidsLowerClearanceAndV3() throws {
    var eleveld = shippedPropofolDefinition.eleveld
    let without = try #require(
      eleveld.parameters(ageYears: 60, weightKilograms: 80, heightCentimeters: 175, isFemale: true))
    eleveld.opioidsCoadministered = true
    let with = try #require(
      eleveld.parameters(ageYears: 60, weightKilograms: 80, heightCentimeters: 175, isFemale: true))
    let clearanceRatio = with.clearanceLitersPerMinute / without.clearanceLitersPerMinute
    let v3Ratio = with.slowPeripheralVolumeLiters / without.slowPeripheralVolumeLiters
    #expect(abs(clearanceRatio - exp(-0.00286 * 60)) < 1e-12)
    #expect(abs(v3Ratio - exp(-0.0138 * 60)) < 1e-12)
  }
}
