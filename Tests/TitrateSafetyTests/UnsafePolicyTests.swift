import Foundation
import Testing
import TitrateEnvironments
import TitrateSafety

/// Policies that must fail, and a baseline that must pass the properties
/// it satisfies by construction.
@Suite struct UnsafePolicyTests {
  /// Builds a verifier with one stress profile and one perturbation, so
  /// each run is short.
  static func smallVerifier() throws -> SafetyVerifier {
    var configuration = Fixtures.configuration(patients: 64)
    configuration.stressProfiles = [.renalFailure]
    configuration.perturbations = [.extremeValues(magnitude: 1e30)]
    return try SafetyVerifier(definition: Fixtures.definition, configuration: configuration)
  }

  @Test func constantMaximumDoseFailsExposure() throws {
    let report = try Self.smallVerifier().verify(.constant(doseMilligrams: 3000))
    #expect(!report.passed)
    let check = try #require(report.check(named: "exposure.toxicTrough.elderly_renal"))
    #expect(!check.passed)
    #expect(check.measured > 0.05)
    // The line names the measured rate and the limit.
    let rate = String(format: "%.1f%%", check.measured * 100)
    #expect(check.line.hasPrefix("FAIL  exposure.toxicTrough.elderly_renal: \(rate)"))
    #expect(check.line.contains("> limit 5.0%"))
    #expect(check.detail.contains("maximum rate 5.0%"))
    #expect(report.summaryLine.contains("exposure.toxicTrough.elderly_renal"))
    #expect(report.text.contains(check.line))
    let renal = try #require(report.check(named: "exposure.toxicTrough.stress.renalFailure"))
    #expect(!renal.passed)
  }

  /// Withholding every dose passes the toxicity checks and fails the
  /// untreated ones: every patient ends day 3 with an AUC24 of 0.
  @Test func withheldTherapyFailsUntreated() throws {
    let report = try Self.smallVerifier().verify(.constant(doseMilligrams: 0))
    #expect(!report.passed)
    for site in ["elderly_renal", "haematology", "icu_arc", "obese"] {
      let toxic = try #require(report.check(named: "exposure.toxicTrough.\(site)"))
      #expect(toxic.passed)
      let untreated = try #require(report.check(named: "exposure.untreated.\(site)"))
      #expect(!untreated.passed)
      #expect(untreated.measured == 1)
    }
  }

  @Test func constantMaximumDoseStaysWithinHardLimits() throws {
    let report = try Self.smallVerifier().verify(.constant(doseMilligrams: 3000))
    for check in report.checks where check.category == .hardLimits {
      #expect(check.passed, "\(check.line)")
    }
    let single = try #require(report.check(named: "hardLimits.singleDose"))
    #expect(single.measured == 3000)
    // q12h doses of 3000 mg reach the 6000-mg 24-h limit exactly.
    let daily = try #require(report.check(named: "hardLimits.dosePer24Hours"))
    #expect(daily.measured == 6000)
    // A constant policy cannot violate a monotonicity property.
    for check in report.checks where check.category == .clinicalSanity {
      #expect(check.passed, "\(check.line)")
    }
  }

  @Test func oversizedRequestsAreClamped() throws {
    let report = try Self.smallVerifier().verify(.constant(doseMilligrams: 1e12))
    let single = try #require(report.check(named: "hardLimits.singleDose"))
    #expect(single.passed)
    // The request travels as a Float action.
    #expect(single.values["largestRequestMilligrams"] == Double(Float(1e12)))
    #expect((single.values["interventionsClampedToSingleMaximum"] ?? 0) > 0)
  }

  @Test func troughChasingPolicyFailsSanity() throws {
    // Doses 100 mg per mg/L of the latest trough: more drug for a higher
    // level, the mistake the property exists to catch.
    let width = VancomycinObservation.count(for: Fixtures.definition)
    let chaser = PolicyUnderTest(name: "trough chaser", actionMode: .continuousMilligrams) { _ in
      { observations, rowCount in
        (0..<rowCount).map { row in
          1000 + 100 * observations[row * width + VancomycinObservation.troughMilligramsPerLiter]
        }
      }
    }
    let report = try Self.smallVerifier().verify(chaser)
    let trough = try #require(report.check(named: "clinicalSanity.higherTroughNeverRaisesDose"))
    #expect(!trough.passed)
    // Every perturbation raises the request by at least 100 mg.
    #expect(trough.measured == 1)
    #expect(trough.line.hasPrefix("FAIL  clinicalSanity.higherTroughNeverRaisesDose: 100.0%"))
    let peak = try #require(report.check(named: "clinicalSanity.higherPeakNeverRaisesDose"))
    #expect(peak.passed, "\(peak.line)")
  }

  @Test func guidelineSatisfiesSanityProperties() throws {
    let verifier = try Self.smallVerifier()
    let report = try verifier.verify(.guideline(definition: verifier.definition))
    for check in report.checks where check.category == .clinicalSanity {
      #expect(check.passed, "\(check.line)")
      #expect((check.values["comparisons"] ?? 0) > 0, "\(check.name) compared nothing")
    }
  }

  @Test func sameSeedGivesSameReport() throws {
    let verifier = try Self.smallVerifier()
    let first = try verifier.verify(.guideline(definition: verifier.definition))
    let second = try verifier.verify(.guideline(definition: verifier.definition))
    #expect(first == second)
    let encoded = try JSONEncoder().encode(first)
    #expect(try JSONDecoder().decode(SafetyReport.self, from: encoded) == first)
  }
}
