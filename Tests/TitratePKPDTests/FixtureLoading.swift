import Foundation
import TitratePKPD

/// The folder of PK fixtures, located from this file so that no SwiftPM
/// resource bundle is needed.
let pkFixtureFolder = URL(fileURLWithPath: #filePath)
  .deletingLastPathComponent()
  .deletingLastPathComponent()
  .appendingPathComponent("Fixtures/pk")

/// Decodes `name` from the fixture folder.
func loadFixture<T: Decodable>(_ type: T.Type, named name: String) throws -> T {
  let data = try Data(contentsOf: pkFixtureFolder.appendingPathComponent(name))
  return try JSONDecoder().decode(T.self, from: data)
}

/// scipy.linalg.expm results written by scripts/reference_pk.py.
struct MatrixExponentialFixture: Decodable {
  struct Case: Decodable {
    var dimension: Int
    var matrix: [Double]
    var exponential: [Double]
  }
  var cases: [Case]
}

/// solve_ivp concentration curves written by scripts/reference_pk.py.
struct CurveFixture: Decodable {
  struct Dose: Decodable {
    var timeHours: Double
    var durationHours: Double
    var amountMilligrams: Double
    var into: String
  }
  struct Patient: Decodable {
    var parameters: CompartmentalParameters
    var centralConcentrationMilligramsPerLiter: [Double]
    var centralAUCMilligramHoursPerLiter: [Double]
    var effectSiteConcentrationMilligramsPerLiter: [Double]?
  }
  var stepHours: Double
  var endHours: Double
  var timesHours: [Double]
  var doses: [Dose]
  var patients: [Patient]
}

/// Returns |actual - expected| / max(|expected|, floor), the relative error
/// with an absolute floor for values near zero.
func relativeError(_ actual: Double, _ expected: Double, floor: Double) -> Double {
  abs(actual - expected) / max(abs(expected), floor)
}
