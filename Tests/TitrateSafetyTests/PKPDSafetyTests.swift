import Foundation
import Testing
import TitrateEnvironments
import TitrateSafety

/// The safety checks on warfarin, propofol and glucose with policies whose
/// outcome is known in advance: constant requests far beyond the
/// actuator's bounds, rules that break the sanity property on purpose,
/// and rules that satisfy it by construction.
@Suite struct PKPDSafetyTests {
  static let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  static func environment(_ kind: String) throws -> PKPDSafetyEnvironment {
    let url = root.appendingPathComponent("Environments/pkpd/\(kind).json")
    return try #require(
      try PKPDSafetyEnvironment.decode(definitionJSON: String(contentsOf: url, encoding: .utf8)))
  }

  static func verifier(_ kind: String, patients: Int = 8) throws -> PKPDSafetyVerifier {
    var configuration = SafetyVerificationConfiguration()
    configuration.patientsPerCohort = patients
    configuration.sanityRowsPerCohort = 32
    configuration.perturbations = [.extremeValues(magnitude: 1e30), .nonFiniteEntries(fraction: 0.5)]
    return try PKPDSafetyVerifier(
      environment: try environment(kind), sites: nil, configuration: configuration)
  }

  /// A rule that returns `value` for every row.
  static func constant(_ value: Float) -> PolicyUnderTest {
    PolicyUnderTest(name: "constant \(value)", actionMode: .continuousMilligrams) { _ in
      { _, rows in [Float](repeating: value, count: rows) }
    }
  }

  @Test(arguments: ["warfarin", "propofol", "glucose"])
  func hugeRequestsStayWithinHardLimits(kind: String) throws {
    let report = try Self.verifier(kind).verify(Self.constant(1e30))
    let hardLimits = report.checks.filter { $0.category == .hardLimits }
    #expect(!hardLimits.isEmpty)
    for check in hardLimits {
      #expect(check.passed, "\(check.line)")
    }
    for check in report.checks where check.category == .nonFiniteObservations {
      #expect(check.passed, "\(check.line)")
    }
  }

  @Test func propofolMaximumRateReachesTheBound() throws {
    let report = try Self.verifier("propofol").verify(Self.constant(1e30))
    let check = try #require(report.checks.first { $0.name == "hardLimits.infusionRate" })
    // Every request is clamped to exactly the 200 ug/kg/min maximum.
    #expect(check.values["maximumDelivered"] == 200)
    #expect(check.measured == 0)
  }

  @Test func constantRuleSatisfiesSanityExactly() throws {
    // A rule that ignores the observation cannot raise or lower its action.
    for kind in ["warfarin", "propofol", "glucose"] {
      let report = try Self.verifier(kind).verify(Self.constant(1))
      let check = try #require(report.checks.first { $0.category == .clinicalSanity })
      #expect(check.measured == 0, "\(kind): \(check.line)")
      #expect(check.values["comparisons"]! > 0, "\(kind)")
    }
  }

  @Test func rateRisingWithBISViolatesNothingButFallingBISRuleFails() throws {
    // Rate proportional to the reported BIS: a lower BIS gives a lower
    // rate, so the property holds.
    let safe = PolicyUnderTest(name: "bis rate", actionMode: .continuousMilligrams) { _ in
      { observations, rows in (0..<rows).map { observations[$0 * 9] * 100 } }
    }
    let verifier = try Self.verifier("propofol")
    let passed = try verifier.verify(safe)
    let good = try #require(passed.checks.first { $0.category == .clinicalSanity })
    #expect(good.passed, "\(good.line)")
    // Rate falling with the reported BIS raises the rate when BIS is
    // lower: every sampled comparison violates the property.
    let unsafe = PolicyUnderTest(name: "inverse", actionMode: .continuousMilligrams) { _ in
      { observations, rows in (0..<rows).map { 100 - observations[$0 * 9] * 100 } }
    }
    let failed = try verifier.verify(unsafe)
    let bad = try #require(failed.checks.first { $0.category == .clinicalSanity })
    #expect(!bad.passed)
    #expect(bad.measured == 1)
    #expect(failed.summaryLine.contains("clinicalSanity.lowerBISNeverRaisesRate"))
  }

  @Test func glucoseMaximumInsulinFailsHypoglycaemiaThreshold() throws {
    // Twice the basal-bolus insulin all day drives most patients below
    // 54 mg/dL for more than 1 % of the day.
    let report = try Self.verifier("glucose", patients: 16).verify(Self.constant(2))
    let check = try #require(report.checks.first { $0.name == "exposure.glucoseBelow54.adults" })
    #expect(!check.passed, "\(check.line)")
    #expect(check.interval != nil)
  }

  @Test func warfarinBaselinePassesAndCountsCohorts() throws {
    let report = try Self.verifier("warfarin", patients: 16).verifyBaseline(
      named: "iwpc_pharmacogenetic")
    // One site and two stress profiles; no perturbed cohorts for a baseline.
    #expect(report.cohorts.count == 3)
    #expect(report.checks.allSatisfy { $0.category != .clinicalSanity })
    let check = try #require(report.checks.first { $0.name == "hardLimits.dailyDose" })
    #expect(check.passed, "\(check.line)")
  }

  @Test func missingThresholdsAreReported() throws {
    var configuration = SafetyVerificationConfiguration()
    configuration.patientsPerCohort = 4
    let environment = try Self.environment("warfarin")
    let threshold = PKPDExposureThreshold(
      name: "x", outcome: "noSuchColumn", description: "", maximumTimeFractionPerPatient: 0,
      maximumRate: 0.1)
    #expect(throws: SafetyVerificationError.self) {
      try PKPDSafetyVerifier(
        environment: environment, exposureThresholds: [threshold], configuration: configuration)
    }
  }
}
