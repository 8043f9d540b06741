import Foundation
import Testing

@testable import TitrateEnvironments

@Suite struct PatientCohortTests {
  static let header =
    "id,ageYears,weightKilograms,female,serumCreatinineMilligramsPerDeciliter,haemodialysis"

  func parse(_ lines: [String]) throws(PatientCohortError) -> PatientCohort {
    try PatientCohort.parse(Data(lines.joined(separator: "\n").utf8), file: "site.csv")
  }

  func error(_ lines: [String]) -> PatientCohortError? {
    do {
      _ = try parse(lines)
      return nil
    } catch {
      return error
    }
  }

  @Test func readsRowsInAnyColumnOrder() throws {
    let cohort = try parse([
      "haemodialysis,female,ageYears,serumCreatinineMilligramsPerDeciliter,weightKilograms",
      "0,1,72,1.4,61.5", "", "1,0,45,6.2,90\r",
    ])
    #expect(cohort.rows.count == 2)
    #expect(
      cohort.rows[0]
        == PatientCohort.Row(
          ageYears: 72, weightKilograms: 61.5, isFemale: true,
          serumCreatinineMilligramsPerDeciliter: 1.4, onHaemodialysis: false))
    #expect(cohort.rows[1].onHaemodialysis)
    #expect(cohort.sha256.count == 64)
  }

  @Test func windowsLineEndingsRead() throws {
    let text = "ageYears,weightKilograms,female,serumCreatinineMilligramsPerDeciliter,haemodialysis\r\n"
      + "50,70,0,1.0,0\r\n61,80,1,1.2,0\r\n"
    let cohort = try PatientCohort.parse(Data(text.utf8), file: "windows.csv")
    #expect(cohort.rows.map(\.ageYears) == [50, 61])
  }

  /// Each impossible value is reported with its line, column, value and
  /// the accepted range.
  @Test(arguments: [
    ("p1,400,70,0,1.0,0", 2, "ageYears", "is 400 years, outside the accepted 18.0-120.0 years"),
    ("p1,60,0,0,1.0,0", 2, "weightKilograms", "is 0 kg, outside the accepted 20.0-400.0 kg"),
    ("p1,60,70,2,1.0,0", 2, "female", "is \"2\"; write 0 (no) or 1 (yes)"),
    ("p1,60,70,0,,0", 2, "serumCreatinineMilligramsPerDeciliter", "is empty"),
    ("p1,60,70,0,nan,0", 2, "serumCreatinineMilligramsPerDeciliter", "is \"nan\", not a number"),
    ("p1,60,seventy,0,1.0,0", 2, "weightKilograms", "is \"seventy\", not a number"),
    ("p1,0x20,70,0,1.0,0", 2, "ageYears", "is \"0x20\", not a number"),
  ])
  func impossibleValuesNameRowAndColumn(
    row: String, line: Int, column: String, message: String
  ) throws {
    let found = try #require(error([Self.header, row]))
    #expect(found.line == line)
    #expect(found.column == column)
    #expect(found.message.contains(message))
    #expect(found.description.hasPrefix("cohort site.csv line \(line), column \(column) "))
  }

  @Test func badHeaderIsNamed() throws {
    let unknown = try #require(error([Self.header + ",genotype", "p1,60,70,0,1,0,*1/*2"]))
    #expect(unknown.column == "genotype")
    #expect(unknown.message.contains("is not a cohort column"))
    let missing = try #require(
      error(["ageYears,weightKilograms,female,haemodialysis", "60,70,0,0"]))
    #expect(missing.column == "serumCreatinineMilligramsPerDeciliter")
    #expect(missing.message.contains("missing from the header"))
    let twice = try #require(error([Self.header + ",female", "p1,60,70,0,1,0,1"]))
    #expect(twice.message.contains("appears twice"))
  }

  @Test func wrongCellCountAndEmptyFilesAreRejected() throws {
    let short = try #require(error([Self.header, "p1,60,70,0,1.0,0", "p2,61,71,0,1.0"]))
    #expect(short.line == 3)
    #expect(short.message.contains("has 5 values but the header has 6 columns"))
    #expect(error([]) != nil)
    #expect(try #require(error([Self.header])).message.contains("no patients"))
  }

  /// Patients take their covariates from the cohort's rows, and the same
  /// seed gives the same patients.
  @Test func environmentDrawsPatientsFromTheCohort() throws {
    let cohort = try parse([Self.header, "a,30,55,1,0.7,0", "b,80,95,0,3.1,1"])
    func patients(seed: UInt64) throws -> [VirtualPatient] {
      let environment = try VancomycinEnvironment(
        definition: shippedDefinition, populationName: "obese", batchSize: 64, cohort: cohort)
      _ = environment.reset(seed: seed)
      return environment.patients
    }
    let first = try patients(seed: 9)
    #expect(first == (try patients(seed: 9)))
    let ages = Set(first.map(\.ageYears))
    #expect(ages == [30, 80])
    for patient in first {
      #expect(patient.weightKilograms == (patient.ageYears == 30 ? 55 : 95))
      #expect(patient.onHaemodialysis == (patient.ageYears == 80))
    }
    // Parameters still vary between patients with the same covariates.
    let clearances = Set(
      first.filter { $0.ageYears == 30 }.map(\.parameters.clearanceLitersPerHour))
    #expect(clearances.count > 1)
  }
}
