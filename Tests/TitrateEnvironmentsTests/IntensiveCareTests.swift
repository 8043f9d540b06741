import Foundation
import Testing
import TitrateRandom

@testable import TitrateEnvironments

/// The care-setting observation entry: drawn per population, read from a
/// cohort file, and validated.
@Suite struct IntensiveCareTests {
  /// Returns the care-setting entry of every row of a fresh batch.
  static func careEntries(population: String, batchSize: Int) throws -> [Float] {
    let environment = try VancomycinEnvironment(
      definition: shippedDefinition, populationName: population, batchSize: batchSize)
    let rows = environment.reset(seed: 9)
    let width = environment.observationSize
    let entry = VancomycinObservation.intensiveCare(observationSize: width)
    return (0..<batchSize).map { rows[$0 * width + entry] }
  }

  @Test func entryFollowsShippedFractions() throws {
    #expect(try Self.careEntries(population: "icu_arc", batchSize: 500).allSatisfy { $0 == 1 })
    #expect(try Self.careEntries(population: "haematology", batchSize: 500).allSatisfy { $0 == 0 })
    #expect(
      try Self.careEntries(population: "elderly_renal", batchSize: 500).allSatisfy { $0 == 0 })
    // Obese: fraction 0.3. Over 10,000 patients the binomial standard
    // deviation is sqrt(0.3 x 0.7 / 10,000) = 0.0046, and 4 of them is 0.018.
    let obese = try Self.careEntries(population: "obese", batchSize: 10_000)
    #expect(obese.allSatisfy { $0 == 0 || $0 == 1 })
    let fraction = Double(obese.reduce(0, +)) / 10_000
    #expect(abs(fraction - 0.3) < 0.018, "fraction \(fraction)")
  }

  /// A fraction of exactly 0 or 1 draws nothing, so a population keeps the
  /// patients it had before the field existed.
  @Test func wholeFractionsKeepTheStream() {
    var definition = shippedDefinition
    definition.populations["icu_arc"]!.intensiveCareFraction = nil
    var withField = Xoshiro256(seed: 4)
    var withoutField = Xoshiro256(seed: 4)
    let sampler = PatientSampler(definition: shippedDefinition, populationName: "icu_arc")
    let plain = PatientSampler(definition: definition, populationName: "icu_arc")
    for _ in 0..<50 {
      var patient = sampler.samplePatient(using: &withField)
      #expect(patient.inIntensiveCare)
      patient.inIntensiveCare = false
      #expect(patient == plain.samplePatient(using: &withoutField))
    }
  }

  @Test func fractionOutsideZeroToOneIsRejected() {
    let tree = setting(
      shippedJSONTree(), ["populations", "obese", "intensiveCareFraction"], to: 1.5)
    let issues = decodeError(tree)?.issues ?? []
    let issue = issues.first { $0.path == "populations.obese.intensiveCareFraction" }
    #expect(issue != nil, "issues \(issues.map(\.path))")
    #expect(issue?.message.contains("1.5") == true)
  }

  @Test func cohortColumnIsOptional() throws {
    let header =
      "ageYears,weightKilograms,female,serumCreatinineMilligramsPerDeciliter,haemodialysis"
    let without = try PatientCohort.parse(Data("\(header)\n50,70,0,1,0\n".utf8), file: "a.csv")
    #expect(without.rows[0].inIntensiveCare == false)

    let with = try PatientCohort.parse(
      Data("\(header),intensiveCare\n50,70,0,1,0,1\n".utf8), file: "b.csv")
    #expect(with.rows[0].inIntensiveCare)

    do {
      _ = try PatientCohort.parse(
        Data("\(header),intensiveCare\n50,70,0,1,0,2\n".utf8), file: "c.csv")
      Issue.record("a care-setting value of 2 was accepted")
    } catch {
      #expect("\(error)".contains("intensiveCare"))
      #expect("\(error)".contains("write 0 (no) or 1 (yes)"))
    }
  }
}
