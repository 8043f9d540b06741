import Foundation
import Testing
import TitrateEnvironments
import TitrateSafety

@Suite struct ScratchTests {
  @Test func printReports() throws {
    let checkpoint = try Fixtures.referenceCheckpoint()
    let verifier = try SafetyVerifier(
      checkpoint: checkpoint, exposureThresholds: Fixtures.definition.safety!.exposureThresholds,
      configuration: Fixtures.configuration(patients: 256))
    let start = Date()
    let report = try verifier.verify(.trained(checkpoint))
    print(report.text)
    print("seconds", Date().timeIntervalSince(start))
    let guideline = try verifier.verify(.guideline(definition: verifier.definition))
    print(guideline.text)
  }
}
