import Foundation

@testable import TitrateEnvironments

/// The shipped glucose definition file.
let glucoseDefinitionURL = repositoryRoot.appendingPathComponent("Environments/pkpd/glucose.json")

/// The shipped glucose definition, loaded once.
let glucoseDefinition: GlucoseDefinition = {
  do {
    return try GlucoseDefinition.load(from: glucoseDefinitionURL)
  } catch {
    fatalError("shipped glucose definition failed to load: \(error)")
  }
}()

/// Folder of the simglucose tables and reference trajectories.
let glucoseFixtures = repositoryRoot.appendingPathComponent("Tests/Fixtures/glucose")

/// Returns the rows of a CSV file without quoting (simglucose's tables and
/// the reference file have none) as dictionaries keyed by the header.
func readGlucoseCSV(_ name: String) -> [[String: String]] {
  let text = try! String(
    contentsOf: glucoseFixtures.appendingPathComponent(name), encoding: .utf8)
  let lines = text.split(whereSeparator: \.isNewline).map(String.init)
  let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
  return lines.dropFirst().map { line in
    let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    return Dictionary(uniqueKeysWithValues: zip(header, fields))
  }
}

/// The fixed protocol of `scripts/reference_glucose.py`: meals at 07:00
/// (50 g), 12:00 (70 g) and 18:30 (80 g) with a bolus of grams / CR in
/// their first minute, a 1 U correction at 15:00, basal suspended from
/// 02:00 to 04:00 and doubled from 21:00 to 22:00.
enum ReferenceProtocol {
  static let minutes = 24 * 60
  static let mealsGramsByMinute: [Int: Double] = [420: 50, 720: 70, 1110: 80]
  static let correctionMinute = 900
  static let correctionUnits = 1.0

  static func basalMultiplier(minute: Int) -> Double {
    if (120..<240).contains(minute) { return 0 }
    if (1260..<1320).contains(minute) { return 2 }
    return 1
  }

  /// Runs the protocol for `patients` and calls `observe(minute, batch)`
  /// at minute 0 and after every minute.
  static func run(
    _ patients: [GlucosePatient], stepsPerMinute: Int,
    observe: (Int, GlucosePatientBatch) -> Void
  ) {
    let batch = GlucosePatientBatch(
      patients: patients, stepsPerMinute: stepsPerMinute, eatingRateGramsPerMinute: 5)
    observe(0, batch)
    for minute in 0..<minutes {
      let grams = mealsGramsByMinute[minute] ?? 0
      let insulin = patients.map { patient -> Double in
        var units = patient.parameters.basalUnitsPerMinute * basalMultiplier(minute: minute)
        if grams > 0 { units += grams / patient.carbohydrateRatioGramsPerUnit }
        if minute == correctionMinute { units += correctionUnits }
        return units
      }
      batch.advanceMinute(
        announcedGrams: [Double](repeating: grams, count: patients.count),
        insulinUnitsPerMinute: insulin)
      observe(minute + 1, batch)
    }
  }
}
