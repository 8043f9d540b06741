import Foundation
import Testing
import TitrateEnvironments

@testable import TitrateSafety

/// The wording of `titrate verify` reports on the linear kind (gentamicin):
/// the actuator's own intervention kinds and exposure conditions counted
/// in dosing cycles.
@Suite struct LinearSafetyReportTests {
  /// An action index past the last one is counted by the linear actuator
  /// as an invalid action, so the report must list that kind, not the
  /// vancomycin actuator's clamps.
  @Test func linearReportNamesOwnInterventions() throws {
    let verifier = try PKPDSafetyTests.verifier("gentamicin", patients: 4)
    let report = try verifier.verify(PKPDSafetyTests.constant(1000))
    #expect(
      report.text.contains(
        "actuator interventions (invalid action, clamped to maximum) and screen rejections:"),
      "\(report.text)")
    #expect(!report.text.contains("24-h maximum"), "\(report.text)")

    let site = try #require(report.cohorts.first)
    let invalid = site.interventions["InvalidAction"] ?? 0
    #expect(invalid > 0)
    #expect(
      report.text.contains("  \(site.name) (\(site.patients) patients): \(invalid), 0; "),
      "\(report.text)")
  }

  /// The gentamicin thresholds count dosing cycles per patient, so the
  /// notes and the check details name cycles instead of "of the episode".
  @Test func linearExposureWordingCountsCycles() throws {
    let verifier = try PKPDSafetyTests.verifier("gentamicin", patients: 4)
    let report = try verifier.verifyBaseline(named: "hartford")
    let notes = report.notes.joined(separator: "\n")
    #expect(notes.contains("toxicTrough in more than 0% of the 4 dosing cycles"), "\(notes)")
    #expect(
      notes.contains("cumulativeAUCAboveLimit = 1, meaning the episode's AUC passed the limit"),
      "\(notes)")
    let toxic = try #require(report.checks.first { $0.name == "exposure.toxicTrough.gentamicin" })
    #expect(toxic.detail.contains("in more than 0% of the 4 dosing cycles"), "\(toxic.detail)")
    for check in report.checks {
      #expect(!check.detail.contains("of the episode"), "\(check.name): \(check.detail)")
    }
    #expect(!notes.contains("of the episode"), "\(notes)")
  }

  /// Kinds without a fixed label read as their words, and the vancomycin
  /// kinds keep the labels the report has always used.
  @Test func interventionLabelsReadAsWords() {
    let labels = SafetyReport.interventionKinds(
      columnNames: [
        "episodeCost", "interventionsRounded", "interventionsClampedToSingleMaximum",
        "interventionsClampedToDailyMaximum", "interventionsNonFinite",
        "interventionsInvalidAction",
      ]
    ).map(SafetyReport.interventionLabel)
    #expect(
      labels == [
        "rounded", "clamped to single maximum", "clamped to 24-h maximum", "non-finite",
        "invalid action",
      ])
  }
}
