import Foundation
import Testing

@testable import TitrateEnvironments

/// Checks the strict loader of glucose definitions and the shipped
/// patient table.
@Suite struct GlucoseDefinitionTests {
  /// Returns the shipped file as a mutable JSON tree.
  static func shippedTree() -> [String: Any] {
    let data = try! Data(contentsOf: glucoseDefinitionURL)
    return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
  }

  /// Returns the issues of decoding `tree`, or nil when it loads.
  static func issues(_ tree: [String: Any]) -> [DefinitionIssue]? {
    let data = try! JSONSerialization.data(withJSONObject: tree)
    do {
      _ = try GlucoseDefinition.decode(from: data)
      return nil
    } catch {
      return error.issues
    }
  }

  @Test func shippedDefinitionLoads() {
    #expect(glucoseDefinition.kind == "glucose")
    #expect(glucoseDefinition.patientTable.patients.count == 30)
    for group in GlucoseAgeGroup.allCases {
      #expect(glucoseDefinition.patients(in: group).count == 10, "\(group)")
    }
    #expect(glucoseDefinition.patientTable.license.contains("Permission is hereby granted"))
  }

  @Test func patientsEqualSimglucoseTables() {
    // Column names of simglucose's table for the parameters whose JSON
    // name is lower-cased.
    let csvNames = [
      "bw": "BW", "gb": "Gb", "ib": "Ib", "vg": "Vg", "vi": "Vi", "vm0": "Vm0", "vmx": "Vmx",
      "km0": "Km0", "fsnc": "Fsnc",
    ]
    let rows = readGlucoseCSV("vpatient_params.csv")
    let quest = Dictionary(
      uniqueKeysWithValues: readGlucoseCSV("Quest.csv").map { ($0["Name"]!, $0) })
    #expect(rows.count == 30)
    for (row, patient) in zip(rows, glucoseDefinition.patientTable.patients) {
      #expect(row["Name"] == patient.name)
      for (name, value) in zip(UVAPadovaParameters.names, patient.parameters.values) {
        #expect(Double(row[csvNames[name] ?? name]!) == value, "\(patient.name) \(name)")
      }
      let stateKeys = (1...13).map { $0 < 10 ? "x0_ \($0)" : "x0_\($0)" }
      #expect(stateKeys.map { Double(row[$0]!)! } == patient.initialState, "\(patient.name)")
      let settings = quest[patient.name]!
      #expect(Double(settings["CR"]!) == patient.carbohydrateRatioGramsPerUnit)
      #expect(Double(settings["CF"]!) == patient.correctionFactorMilligramsPerDeciliterPerUnit)
      #expect(Double(settings["Age"]!) == patient.ageYears)
    }
  }

  @Test func outOfRangeValueNamesPathRangeAndFix() {
    var tree = Self.shippedTree()
    var episode = tree["episode"] as! [String: Any]
    episode["maximumInsulinMultiplier"] = 0.5
    tree["episode"] = episode
    let found = Self.issues(tree) ?? []
    #expect(found.count == 1)
    #expect(found.first?.path == "episode.maximumInsulinMultiplier")
    #expect(
      found.first?.message
        == "is 0.5, but must be in (1, 10]. Use 2, so the policy starts at the baseline's insulin.")
  }

  @Test func badPatientParameterNamesItsIndex() {
    var tree = Self.shippedTree()
    var table = tree["patientTable"] as! [String: Any]
    var patients = table["patients"] as! [[String: Any]]
    var parameters = patients[3]["parameters"] as! [String: Any]
    parameters["kabs"] = -0.1
    patients[3]["parameters"] = parameters
    table["patients"] = patients
    tree["patientTable"] = table
    let found = Self.issues(tree) ?? []
    #expect(found.map(\.path) == ["patientTable.patients[3].parameters.kabs"])
  }

  @Test func unknownGroupListsTheAllowedOnes() {
    var tree = Self.shippedTree()
    var table = tree["patientTable"] as! [String: Any]
    var patients = table["patients"] as! [[String: Any]]
    patients[0]["group"] = "adult"
    table["patients"] = patients
    tree["patientTable"] = table
    let found = Self.issues(tree) ?? []
    #expect(found.count == 1)
    #expect(found.first?.message.contains("children, adolescents, adults") == true)
    #expect(found.first?.message.contains("Did you mean \"adults\"?") == true)
  }

  @Test func unknownKeyIsRejected() {
    var tree = Self.shippedTree()
    var pump = tree["pump"] as! [String: Any]
    pump["maximumBasalUnitsPerMinute"] = 0.5
    tree["pump"] = pump
    let found = Self.issues(tree) ?? []
    #expect(found.map(\.path) == ["pump.maximumBasalUnitsPerMinute"])
  }

  @Test func sampleTimeMustDivideNoiseKnots() {
    var tree = Self.shippedTree()
    var sensor = tree["sensor"] as! [String: Any]
    sensor["sampleMinutes"] = 4
    tree["sensor"] = sensor
    let found = Self.issues(tree) ?? []
    #expect(found.map(\.path) == ["sensor.noiseKnotMinutes"])
  }
}
