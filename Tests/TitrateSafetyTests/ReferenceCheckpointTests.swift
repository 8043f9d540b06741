import Testing
import TitrateEnvironments
import TitrateFederation
import TitratePolicy
import TitrateSafety

/// The example a user's own test suite can copy: verify a checkpoint and
/// assert on the report. The numbers come from the run, never from this
/// file, because the reference checkpoint will be regenerated.
@Suite struct ReferenceCheckpointTests {
  /// One verification of the shipped checkpoint, shared by the tests.
  static let report: Result<SafetyReport, any Error> = Result {
    let checkpoint = try Fixtures.referenceCheckpoint()
    // The checkpoint's stored definition predates the safety section, so
    // the thresholds come from the shipped definition file.
    let verifier = try SafetyVerifier(
      checkpoint: checkpoint,
      exposureThresholds: checkpoint.storedSafetyThresholds
        ?? Fixtures.definition.safety?.exposureThresholds,
      configuration: Fixtures.configuration(patients: 256))
    return try verifier.verify(.trained(checkpoint))
  }

  @Test func hardLimitsHoldForCheckpoint() throws {
    let report = try Self.report.get()
    let hardLimits = report.checks.filter { $0.category == .hardLimits }
    #expect(hardLimits.count == 6)
    for check in hardLimits {
      #expect(check.passed, "\(check.line)")
    }
  }

  @Test func nonFiniteRowsRejectedForCheckpoint() throws {
    let report = try Self.report.get()
    let checks = report.checks.filter { $0.category == .nonFiniteObservations }
    #expect(
      checks.map(\.name).sorted() == [
        "nonFiniteObservations.rejectedRowsDosed", "nonFiniteObservations.rejectionsCounted",
        "nonFiniteObservations.typedError",
      ])
    for check in checks {
      #expect(check.passed, "\(check.line)")
    }
    let rejected = try #require(report.check(named: "nonFiniteObservations.rejectedRowsDosed"))
    #expect((rejected.values["rejectedRows"] ?? 0) > 0)
  }

  @Test func exposureReportedForEveryCohortGroup() throws {
    let report = try Self.report.get()
    let thresholds = try #require(Fixtures.definition.safety?.exposureThresholds)
    let groups =
      ["elderly_renal", "haematology", "icu_arc", "obese"]
      + StressProfile.allCases.map { "stress.\($0.rawValue)" }
    for threshold in thresholds {
      for group in groups {
        let check = try #require(report.check(named: "exposure.\(threshold.name).\(group)"))
        // Stress cohorts use their own limit when the threshold sets one.
        let limit = group.hasPrefix("stress.") ? threshold.stressLimit : threshold.maximumRate
        #expect(check.limit == limit)
        let interval = try #require(check.interval)
        #expect(interval.lower <= check.measured)
        #expect(check.measured <= interval.upper)
        #expect(check.passed == (check.measured <= limit))
      }
    }
  }

  /// The shipped policy is trained with `--monotone-policy`, so the
  /// sampled sanity properties hold by construction, not by chance.
  @Test func sanityPropertiesHoldForMonotoneCheckpoint() throws {
    let checkpoint = try Fixtures.referenceCheckpoint()
    let constraint = try #require(checkpoint.network.monotoneConstraint)
    #expect(constraint.violation(in: checkpoint.network.policy) == nil)
    let report = try Self.report.get()
    let sanity = report.checks.filter { $0.category == .clinicalSanity }
    #expect(sanity.count == ClinicalSanityProperty.allCases.count)
    for check in sanity {
      #expect(check.passed, "\(check.line)")
      #expect(check.measured == 0, "\(check.line)")
    }
  }

  @Test func checkpointPassesEverySafetyCheck() throws {
    let report = try Self.report.get()
    #expect(report.passed, "\(report.text)")
    #expect(report.checks.count == 42)
  }
}

extension TrainedPolicy {
  /// The exposure thresholds of the checkpoint's stored definition, or nil
  /// when it has no safety section.
  var storedSafetyThresholds: [ExposureThreshold]? {
    let definition = try? EnvironmentDefinition.decode(from: .init(environment.definitionJSON.utf8))
    return definition?.safety?.exposureThresholds
  }
}
