import Foundation
import Testing
import TitrateRandom

@testable import TitrateEnvironments

/// Serum creatinine drawn from its own distribution for patients on
/// haemodialysis (`serumCreatinineOnHaemodialysis`).
@Suite struct DialysisCreatinineTests {
  @Test func dialysisPatientsGetTheirOwnCreatinine() {
    let sampler = PatientSampler(definition: shippedDefinition, populationName: "obese")
    var generator = Xoshiro256(seed: 12)
    let patients = (0..<4000).map { _ in sampler.samplePatient(using: &generator) }
    let onDialysis = patients.filter(\.onHaemodialysis).map(\.serumCreatinineMilligramsPerDeciliter)
    let others = patients.filter { !$0.onHaemodialysis }.map(\.serumCreatinineMilligramsPerDeciliter)
    // About 5 % of 4,000 are on dialysis.
    #expect(onDialysis.count > 120, "\(onDialysis.count) on dialysis")
    #expect(onDialysis.count < 280, "\(onDialysis.count) on dialysis")
    // The shipped dialysis distribution is bounded to 3-12 mg/dL with a
    // median of 6. Everyone else stays within 0.5-4.
    #expect(onDialysis.min()! >= 3)
    #expect(onDialysis.max()! <= 12)
    #expect(others.min()! >= 0.5)
    #expect(others.max()! <= 4)
    let median = onDialysis.sorted()[onDialysis.count / 2]
    #expect(abs(median - 6) < 0.6, "median \(median)")
  }

  @Test func outOfRangeDistributionIsRejected() {
    let tree = setting(
      shippedJSONTree(),
      ["populations", "obese", "covariates", "serumCreatinineOnHaemodialysis"],
      to: [
        "distribution": "logNormal", "median": 50, "coefficientOfVariation": 0.3, "minimum": 3,
        "maximum": 60,
      ])
    let paths = Set(decodeError(tree)?.issues.map(\.path) ?? [])
    #expect(paths.contains("populations.obese.covariates.serumCreatinineOnHaemodialysis.median"))
  }
}
