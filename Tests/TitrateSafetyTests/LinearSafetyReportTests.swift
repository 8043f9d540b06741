import Foundation
import Testing
import TitrateEnvironments

@testable import TitrateSafety

/// The wording of `titrate verify` reports on the linear kind (gentamicin):
/// the actuator's own intervention kinds.
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
