import Foundation
import Testing
import TitrateRandom

@testable import TitrateEnvironments

/// Edge patients: a fraction of a site's training patients drawn from the
/// definition's `edgeCovariates` instead of the site's population.
@Suite struct EdgePatientTests {
  /// The shipped definition with icu_arc's weight fixed near 70 kg and the
  /// edge weights on 200-300 kg, so every patient's origin shows in its
  /// weight.
  static var separatedDefinition: EnvironmentDefinition {
    var definition = shippedDefinition
    definition.populations["icu_arc"]!.covariates.weightKilograms = .uniform(
      minimum: 70, maximum: 71)
    definition.edgeCovariates!.covariates.weightKilograms = .uniform(minimum: 200, maximum: 300)
    return definition
  }

  @Test func fractionOfEdgePatientsFollowsTheSetting() throws {
    let environment = try VancomycinEnvironment(
      definition: Self.separatedDefinition, populationName: "icu_arc", batchSize: 20_000,
      edgePatientFraction: 0.2)
    let rows = environment.reset(seed: 5)
    let width = environment.observationSize
    let weights = (0..<20_000).map {
      Double(rows[$0 * width + VancomycinObservation.weightKilograms])
    }
    let edge = weights.filter { $0 >= 200 }
    #expect(weights.allSatisfy { (70...71).contains($0) || (200...300).contains($0) })
    // Binomial: sqrt(0.2 x 0.8 / 20,000) = 0.0028; 4 of them is 0.0113.
    let fraction = Double(edge.count) / 20_000
    #expect(abs(fraction - 0.2) < 0.0113, "fraction \(fraction)")
    // Uniform 200-300: mean 250, standard error 28.9 / sqrt(4000) = 0.46.
    let mean = edge.reduce(0, +) / Double(edge.count)
    #expect(abs(mean - 250) < 2, "mean edge weight \(mean)")
    // Edge patients keep the site's care setting (icu_arc: all in intensive care).
    let care = VancomycinObservation.intensiveCare(observationSize: width)
    #expect((0..<20_000).allSatisfy { rows[$0 * width + care] == 1 })
  }

  /// With `drawsEdgePatients` off, a reset draws the patients an
  /// environment without edge patients draws from the same seed; turned
  /// back on, edge patients return.
  @Test func edgePatientsCanBeLeftOut() throws {
    let definition = Self.separatedDefinition
    let mixed = try VancomycinEnvironment(
      definition: definition, populationName: "icu_arc", batchSize: 2_000,
      edgePatientFraction: 0.2)
    let plain = try VancomycinEnvironment(
      definition: definition, populationName: "icu_arc", batchSize: 2_000)
    let width = mixed.observationSize
    func weights(_ rows: [Float]) -> [Float] {
      (0..<2_000).map { rows[$0 * width + VancomycinObservation.weightKilograms] }
    }

    mixed.drawsEdgePatients = false
    let withoutEdge = mixed.reset(seed: 9)
    #expect(withoutEdge == plain.reset(seed: 9))
    #expect(mixed.patients == plain.patients)
    #expect(weights(withoutEdge).allSatisfy { (70...71).contains($0) })

    mixed.drawsEdgePatients = true
    let edgeCount = weights(mixed.reset(seed: 9)).filter { $0 >= 200 }.count
    // About 400 of 2,000; binomial standard deviation 17.9.
    #expect((300...500).contains(edgeCount), "\(edgeCount) edge patients")
  }

  /// Edge creatinine reaches renal failure: the shipped edge distribution
  /// (log-normal, median 1.5 mg/dL, CV 2, truncated to 0.3-12) puts
  /// P(SCr > 8) = 0.093 before truncation. Patients not on dialysis only.
  @Test func shippedEdgeCovariatesReachRenalFailure() throws {
    var generator = Xoshiro256(seed: 11)
    var definition = shippedDefinition
    definition.edgeCovariates!.covariates.haemodialysis = .bernoulli(probability: 0)
    let sampler = PatientSampler(
      definition: definition, populationName: "icu_arc", edgeFraction: 0.999_999)
    let patients = (0..<10_000).map { _ in sampler.samplePatient(using: &generator) }
    let renalFailure = patients.filter { $0.serumCreatinineMilligramsPerDeciliter > 8 }
    // sigma = sqrt(ln 5) = 1.2686; mass kept in [0.3, 12]: Phi(1.639) - Phi(-1.269)
    // = 0.9494 - 0.1022 = 0.8472; above 8: 0.9494 - Phi(1.3195) = 0.9494 - 0.9065
    // = 0.0429, so 0.0429 / 0.8472 = 0.0506 of the truncated draws.
    let fraction = Double(renalFailure.count) / 10_000
    #expect(abs(fraction - 0.0506) < 0.009, "fraction above 8 mg/dL: \(fraction)")
    #expect(patients.allSatisfy { (0.3...12).contains($0.serumCreatinineMilligramsPerDeciliter) })
  }

  /// Without edge patients the draws equal those of a sampler whose
  /// definition has no `edgeCovariates` section.
  @Test func zeroFractionKeepsTheStream() {
    var definition = shippedDefinition
    definition.edgeCovariates = nil
    var first = Xoshiro256(seed: 3)
    var second = Xoshiro256(seed: 3)
    let withSection = PatientSampler(definition: shippedDefinition, populationName: "obese")
    let without = PatientSampler(definition: definition, populationName: "obese")
    for _ in 0..<200 {
      #expect(
        withSection.samplePatient(using: &first) == without.samplePatient(using: &second))
    }
  }

  @Test func environmentRejectsEdgePatientsItCannotDraw() throws {
    var plain = shippedDefinition
    plain.edgeCovariates = nil
    #expect(throws: VancomycinEnvironmentError.edgeCovariatesNotDefined(environment: "vancomycin"))
    {
      _ = try VancomycinEnvironment(
        definition: plain, populationName: "obese", batchSize: 4, edgePatientFraction: 0.1)
    }
    for fraction in [-0.1, 1, .nan] {
      #expect(throws: VancomycinEnvironmentError.self) {
        _ = try VancomycinEnvironment(
          definition: shippedDefinition, populationName: "obese", batchSize: 4,
          edgePatientFraction: fraction)
      }
    }
    let header =
      "ageYears,weightKilograms,female,serumCreatinineMilligramsPerDeciliter,haemodialysis"
    let cohort = try PatientCohort.parse(Data("\(header)\n50,70,0,1,0\n".utf8), file: "a.csv")
    #expect(throws: VancomycinEnvironmentError.edgePatientsWithCohort) {
      _ = try VancomycinEnvironment(
        definition: shippedDefinition, populationName: "obese", batchSize: 4, cohort: cohort,
        edgePatientFraction: 0.1)
    }
    let message = "\(VancomycinEnvironmentError.invalidEdgePatientFraction(1.5))"
    #expect(message.contains("1.5"))
    #expect(message.contains("0.05"))
  }

  @Test func malformedEdgeCovariatesNameThePath() {
    let tree = setting(
      shippedJSONTree(),
      ["edgeCovariates", "covariates", "weightKilograms", "maximum"], to: 450)
    let paths = decodeError(tree)?.issues.map(\.path) ?? []
    #expect(paths.contains("edgeCovariates.covariates.weightKilograms.maximum"), "\(paths)")
  }

  @Test func edgeCovariatesAreOptional() throws {
    var tree = shippedJSONTree()
    tree.removeValue(forKey: "edgeCovariates")
    let data = try JSONSerialization.data(withJSONObject: tree)
    let definition = try EnvironmentDefinition.decode(from: data)
    #expect(definition.edgeCovariates == nil)
  }
}
