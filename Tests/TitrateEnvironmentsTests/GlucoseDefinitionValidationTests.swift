import Foundation
import Testing

@testable import TitrateEnvironments

/// Checks the glucose validation added on top of the plain ranges: RK4
/// stability of each patient's rates, one issue per bad key, misspelling
/// hints that skip valid keys, and positive pump increments.
@Suite struct GlucoseDefinitionValidationTests {
  /// Returns the shipped tree with `change` applied to the parameters of
  /// patient `index`.
  static func treeChangingPatient(
    _ index: Int, _ change: (inout [String: Any]) -> Void
  ) -> [String: Any] {
    var tree = GlucoseDefinitionTests.shippedTree()
    var table = tree["patientTable"] as! [String: Any]
    var patients = table["patients"] as! [[String: Any]]
    var parameters = patients[index]["parameters"] as! [String: Any]
    change(&parameters)
    patients[index]["parameters"] = parameters
    table["patients"] = patients
    tree["patientTable"] = table
    return tree
  }

  /// Returns the shipped tree with `change` applied to the `pump` section.
  static func treeChangingPump(_ change: (inout [String: Any]) -> Void) -> [String: Any] {
    var tree = GlucoseDefinitionTests.shippedTree()
    var pump = tree["pump"] as! [String: Any]
    change(&pump)
    tree["pump"] = pump
    return tree
  }

  /// Returns the number after "Use at most " in `message`.
  static func largestAllowedValue(in message: String) -> Double? {
    guard let range = message.range(of: "Use at most ") else { return nil }
    let text = message[range.upperBound...].prefix { $0.isNumber || $0 == "." }
    return Double(text)
  }

  // MARK: RK4 stability

  @Test func shippedPatientsAreStable() {
    for (index, patient) in glucoseDefinition.patientTable.patients.enumerated() {
      var issues = IssueCollector()
      patient.parameters.validateStability(
        path: "p[\(index)]", patientName: patient.name, stepMinutes: 1, &issues)
      #expect(issues.issues.isEmpty, "\(patient.name): \(issues.issues)")
    }
  }

  @Test func fastAbsorptionIsRejected() throws {
    let name = glucoseDefinition.patientTable.patients[3].name
    let found = GlucoseDefinitionTests.issues(Self.treeChangingPatient(3) { $0["kabs"] = 50 })
    let issues = try #require(found)
    #expect(issues.map(\.path) == ["patientTable.patients[3].parameters.kabs"])
    let message = issues.first?.message ?? ""
    #expect(message.hasPrefix("is 50 /min for patient \(name)"))
    #expect(message.contains("h |lambda| = 50 exceeds RK4's stability limit 2.78"))
    #expect(message.contains("or a smaller model.integrationStepMinutes"))
    let allowed = try #require(Self.largestAllowedValue(in: message))
    #expect(allowed <= 2.78)
    #expect(allowed >= 2.77)
  }

  @Test func largestAllowedAbsorptionLoads() throws {
    let message =
      GlucoseDefinitionTests.issues(Self.treeChangingPatient(3) { $0["kabs"] = 50 })?.first?
      .message ?? ""
    let allowed = try #require(Self.largestAllowedValue(in: message))
    let tree = Self.treeChangingPatient(3) { $0["kabs"] = allowed }
    #expect(GlucoseDefinitionTests.issues(tree) == nil)
  }

  @Test func coupledBlockNamesLargestParameter() throws {
    let found = GlucoseDefinitionTests.issues(Self.treeChangingPatient(0) { $0["kd"] = 40 })
    let issues = try #require(found)
    #expect(issues.map(\.path) == ["patientTable.patients[0].parameters.kd"])
    let message = issues.first?.message ?? ""
    #expect(message.contains("(the block of ka1, kd)"))

    // The rate of that block is ka1 + kd, so the largest kd is 2.78 - ka1.
    let ka1 = glucoseDefinition.patientTable.patients[0].parameters.ka1
    let allowed = try #require(Self.largestAllowedValue(in: message))
    #expect(abs(allowed - (2.78 - ka1)) <= 0.001)
    #expect(GlucoseDefinitionTests.issues(Self.treeChangingPatient(0) { $0["kd"] = allowed }) == nil)
  }

  @Test func insulinBlockUsesEigenvalue() throws {
    // Ip and Il form [[-(m2 + m4), m1], [m2, -(m1 + m30)]]; m30 = 3 gives
    // a fastest rate above 2.78 through the sum on the diagonal.
    let found = GlucoseDefinitionTests.issues(Self.treeChangingPatient(5) { $0["m30"] = 3 })
    let issues = try #require(found)
    #expect(issues.map(\.path) == ["patientTable.patients[5].parameters.m30"])
    #expect(issues.first?.message.contains("(the block of m1, m2, m4, m30)") == true)
  }

  @Test func smallerStepAcceptsFastRate() {
    var tree = Self.treeChangingPatient(3) { $0["kabs"] = 50 }
    var model = tree["model"] as! [String: Any]
    model["integrationStepMinutes"] = 0.05
    tree["model"] = model
    #expect(GlucoseDefinitionTests.issues(tree) == nil)
  }

  @Test func invalidStepSkipsStabilityCheck() throws {
    var tree = Self.treeChangingPatient(3) { $0["kabs"] = 50 }
    var model = tree["model"] as! [String: Any]
    model["integrationStepMinutes"] = 2
    tree["model"] = model
    let issues = try #require(GlucoseDefinitionTests.issues(tree))
    #expect(issues.map(\.path) == ["model.integrationStepMinutes"])
  }

  // MARK: One issue per key

  @Test func zeroBodyWeightIsReportedOnce() throws {
    let found = GlucoseDefinitionTests.issues(Self.treeChangingPatient(2) { $0["bw"] = 0 })
    let issues = try #require(found)
    #expect(issues.map(\.path) == ["patientTable.patients[2].parameters.bw"])
    #expect(issues.first?.message.hasPrefix("is 0, but must be in [5, 300] kg.") == true)
  }

  @Test func fractionAboveOneIsReportedOnce() throws {
    let found = GlucoseDefinitionTests.issues(Self.treeChangingPatient(2) { $0["b"] = 1.5 })
    let issues = try #require(found)
    #expect(issues.map(\.path) == ["patientTable.patients[2].parameters.b"])
  }

  @Test func fractionOfOneIsRejected() throws {
    let found = GlucoseDefinitionTests.issues(Self.treeChangingPatient(2) { $0["b"] = 1 })
    let issues = try #require(found)
    #expect(issues.map(\.path) == ["patientTable.patients[2].parameters.b"])
    #expect(issues.first?.message.contains("divides by 1 - b") == true)
  }

  // MARK: Misspelling hints

  @Test func missingKeySkipsValidNeighbour() throws {
    let found = GlucoseDefinitionTests.issues(Self.treeChangingPatient(1) { $0["kp1"] = nil })
    let issues = try #require(found)
    #expect(issues.map(\.path) == ["patientTable.patients[1].parameters.kp1"])
    #expect(issues.first?.message.contains("misspelling") == false)
  }

  @Test func missingKeySuggestsRealTypo() throws {
    let tree = Self.treeChangingPatient(1) { parameters in
      parameters["kq1"] = parameters["kp1"]
      parameters["kp1"] = nil
    }
    let issues = try #require(GlucoseDefinitionTests.issues(tree))
    #expect(issues.map(\.path) == ["patientTable.patients[1].parameters.kp1"])
    #expect(
      issues.first?.message.hasSuffix("The key \"kq1\" here may be a misspelling of it.") == true)
  }

  // MARK: Pump

  @Test(arguments: ["bolusIncrementUnits", "basalIncrementUnitsPerHour"])
  func zeroIncrementIsRejected(key: String) throws {
    let issues = try #require(GlucoseDefinitionTests.issues(Self.treeChangingPump { $0[key] = 0 }))
    #expect(issues.map(\.path) == ["pump.\(key)"])
    let message = issues.first?.message ?? ""
    #expect(message.hasPrefix("is 0, but must be in (0, 1]"))
    #expect(message.contains("Use the pump's"))
  }

  @Test(arguments: ["bolusIncrementUnits", "basalIncrementUnitsPerHour"])
  func negativeIncrementIsRejected(key: String) throws {
    let tree = Self.treeChangingPump { $0[key] = -0.05 }
    let issues = try #require(GlucoseDefinitionTests.issues(tree))
    #expect(issues.map(\.path) == ["pump.\(key)"])
  }

  @Test func incrementAboveMaximumIsRejected() throws {
    let tree = Self.treeChangingPump {
      $0["maximumBolusUnits"] = 0.5
      $0["bolusIncrementUnits"] = 1
    }
    let issues = try #require(GlucoseDefinitionTests.issues(tree))
    #expect(issues.map(\.path) == ["pump.bolusIncrementUnits"])
    #expect(issues.first?.message.contains("above maximumBolusUnits 0.5 U") == true)
  }

  @Test(arguments: ["maximumBolusUnits", "maximumBasalUnitsPerHour"])
  func zeroMaximumIsRejected(key: String) throws {
    let issues = try #require(GlucoseDefinitionTests.issues(Self.treeChangingPump { $0[key] = 0 }))
    #expect(issues.map(\.path) == ["pump.\(key)"])
  }
}
