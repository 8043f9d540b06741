import Foundation
import Testing

@testable import TitrateEnvironments

@Suite struct DefinitionLoaderTests {
  @Test func shippedFileLoads() throws {
    let definition = try EnvironmentDefinition.load(from: shippedDefinitionURL)
    #expect(definition.name == "vancomycin")
    #expect(definition.models.keys.sorted() == ["buelga2005", "goti2018", "thomson2009"])
    #expect(definition.populationNames == ["elderly_renal", "haematology", "icu_arc", "obese"])
    #expect(definition.dosing.doseLevelCount == 13)
    #expect(definition.dosing.decisionsPerEpisode == 6)
    #expect(definition.dosing.stepsPerDecision == 48)
    #expect(definition.sourceJSON == (try Data(contentsOf: shippedDefinitionURL)))
    #expect(definition.contentHashSHA256.count == 64)
  }

  @Test func populationsUseTheirModels() {
    let expected = [
      "icu_arc": "goti2018", "elderly_renal": "thomson2009", "haematology": "buelga2005",
      "obese": "goti2018",
    ]
    for (population, model) in expected {
      #expect(shippedDefinition.populations[population]?.model == model)
    }
  }

  @Test func contentHashIsSHA256OfTheFileBytes() throws {
    // sha256sum Environments/vancomycin.json gives the same hex digest.
    let url = repositoryRoot.appendingPathComponent("Environments/vancomycin.json")
    let bytes = try Data(contentsOf: url)
    let definition = try EnvironmentDefinition.load(from: url)
    #expect(definition.contentHashSHA256 == sha256sum(bytes))
  }

  @Test func encodingRoundTrips() throws {
    let data = try JSONEncoder().encode(shippedDefinition)
    var decoded = try EnvironmentDefinition.decode(from: data)
    decoded.sourceJSON = shippedDefinition.sourceJSON
    #expect(decoded == shippedDefinition)
  }

  @Test func listsDefinitionFilesInFolder() throws {
    let folder = repositoryRoot.appendingPathComponent("Environments")
    let files = try EnvironmentDefinition.definitionFiles(in: folder)
    #expect(files.map(\.lastPathComponent).contains("vancomycin.json"))
    let fixtures = try EnvironmentDefinition.loadAll(in: definitionFixtures)
    #expect(fixtures.map(\.name) == ["minimal"])
  }

  /// Thomson 2009 has variability on all four parameters. CL-V1 0.9,
  /// CL-Q 0.9 and V1-Q -0.9 are each in range, but no patient population
  /// can have all three, so the model is rejected instead of failing when
  /// patients are drawn. A pair listed twice is rejected the same way.
  @Test(arguments: [
    [
      ("clearance", "centralVolume", 0.9), ("clearance", "intercompartmentalClearance", 0.9),
      ("centralVolume", "intercompartmentalClearance", -0.9),
    ],
    [("clearance", "centralVolume", 0.2), ("centralVolume", "clearance", 0.3)],
  ])
  func contradictoryCorrelationsAreRejected(_ pairs: [(String, String, Double)]) {
    let correlations = pairs.map { ["first": $0.0, "second": $0.1, "coefficient": $0.2] }
    let tree = setting(
      shippedJSONTree(), ["models", "thomson2009", "correlations"], to: correlations)
    let issues = decodeError(tree)?.issues ?? []
    #expect(issues.map(\.path) == ["models.thomson2009.correlations"])
    #expect(issues.first?.message.contains("do not form a valid correlation matrix") == true)
    let consistent = setting(
      shippedJSONTree(), ["models", "thomson2009", "correlations"],
      to: [correlations[0]])
    #expect(decodeError(consistent) == nil)
  }

  /// Keys repeated in one object are found with their path. Braces,
  /// commas and escaped quotes inside strings are not structure, and equal
  /// keys in different objects are not repeats.
  @Test(arguments: [
    (#"{"a": {"b": 1, "c": [{"x": 1}, {"x": 2, "y": "}, \"x\"", "x": 3}]}}"#, "a.c[1].x"),
    (#"{"a": 1, "b": {"a": 2}, "c": [{"a": 3}, {"a": 4}]}"#, nil),
    (#"{"name": "v", "name": "w"}"#, "name"),
  ])
  func duplicateKeysAreFound(_ json: String, _ expected: String?) {
    #expect(firstDuplicateKey(in: Data(json.utf8)) == expected)
  }

  @Test func duplicateKeyInDefinitionIsRejected() throws {
    let url = repositoryRoot.appendingPathComponent("Environments/vancomycin.json")
    var text = try String(contentsOf: url, encoding: .utf8)
    let name = try #require(text.range(of: #""name": "vancomycin","#))
    text.replaceSubrange(name, with: #""name": "vancomycin", "name": "other","#)
    let issues = decodeDataError(Data(text.utf8))?.issues ?? []
    #expect(issues.map(\.path) == ["name"])
    #expect(issues.first?.message.contains("appears twice in one object") == true)
  }

  @Test func missingFieldNamesPathAndFix() {
    let tree = setting(
      shippedJSONTree(), ["populations", "icu_arc", "covariates", "ageYears", "mean"], to: nil)
    let issues = decodeError(tree)?.issues ?? []
    #expect(issues.count == 1)
    #expect(issues.first?.path == "populations.icu_arc.covariates.ageYears.mean")
    #expect(
      issues.first?.message
        == "is missing. Add it (see Docs/environments for its meaning and unit).")
  }

  @Test func misspelledKeyIsPointedOutWhenFieldMissing() {
    let path = ["populations", "icu_arc", "covariates", "ageYears"]
    var tree = setting(shippedJSONTree(), path + ["mean"], to: nil)
    tree = setting(tree, path + ["meen"], to: 42)
    let message = decodeError(tree)?.issues.first?.message ?? ""
    #expect(message.hasSuffix("The key \"meen\" here may be a misspelling of it."))
  }

  @Test func wrongTypeNamesExpectedAndFound() {
    let tree = setting(shippedJSONTree(), ["dosing", "episodeHours"], to: "72")
    let issues = decodeError(tree)?.issues ?? []
    #expect(issues.first?.path == "dosing.episodeHours")
    #expect(
      issues.first?.message
        == "has the wrong type: expected a number, found a string (\"72\"). Write it as a number.")
  }

  @Test func unknownKeyIsRejectedWithSuggestion() {
    let tree = setting(
      shippedJSONTree(), ["populations", "icu_arc", "covariates", "ageYears", "meen"], to: 40)
    let issues = decodeError(tree)?.issues ?? []
    #expect(issues.count == 1)
    #expect(issues.first?.path == "populations.icu_arc.covariates.ageYears.meen")
    #expect(
      issues.first?.message
        == "is not a known key. Remove it, or use one of: distribution, maximum, mean, "
        + "minimum, standardDeviation. Did you mean \"mean\"?")
  }

  @Test func unknownTopLevelKeyIsRejected() {
    let tree = setting(shippedJSONTree(), ["rewards"], to: [String: Any]())
    let issues = decodeError(tree)?.issues ?? []
    #expect(issues.map(\.path) == ["rewards"])
    #expect(issues.first?.message.hasSuffix("Did you mean \"reward\"?") == true)
  }

  @Test func negativeCoefficientOfVariationIsRejected() {
    let tree = setting(
      shippedJSONTree(),
      ["models", "goti2018", "parameters", "clearance", "variability", "value"], to: -0.4)
    let issues = decodeError(tree)?.issues ?? []
    #expect(issues.count == 1)
    #expect(issues.first?.path == "models.goti2018.parameters.clearance.variability.value")
    #expect(
      issues.first?.message
        == "is -0.4, but must be in (0, 3] (CV as a fraction: 0.4 means 40 %). "
        + "Use a positive value; write null for no variability.")
  }

  @Test func doseLimitBelowIncrementIsRejected() {
    let tree = setting(
      shippedJSONTree(), ["actuatorLimits", "maximumSingleDoseMilligrams"], to: 100)
    let issues = decodeError(tree)?.issues ?? []
    let limitIssue = issues.first { $0.path == "actuatorLimits.maximumSingleDoseMilligrams" }
    #expect(
      limitIssue?.message
        == "is 100, but must be in [250, 10000] mg. The single-dose limit must be at least "
        + "one dose increment (250 mg); raise it or lower the increment.")
  }

  @Test func intervalThatDoesNotDivideTheDayIsRejected() {
    let tree = setting(shippedJSONTree(), ["dosing", "decisionIntervalHours"], to: 36)
    let issues = decodeError(tree)?.issues ?? []
    let intervalIssue = issues.first { $0.path == "dosing.decisionIntervalHours" }
    #expect(
      intervalIssue?.message
        == "is 36, which does not divide 24 h, so some day boundaries would fall inside an "
        + "interval and their AUC24 would not be scored. Use 1, 2, 3, 4, 6, 8, 12 or 24.")
  }

  @Test func unknownModelInPopulationIsRejected() {
    let tree = setting(shippedJSONTree(), ["populations", "obese", "model"], to: "goti2019")
    let issues = decodeError(tree)?.issues ?? []
    #expect(issues.count == 1)
    #expect(issues.first?.path == "populations.obese.model")
    #expect(
      issues.first?.message
        == "is \"goti2019\", which is not a model of this file. Use one of: buelga2005, "
        + "goti2018, thomson2009. Did you mean \"goti2018\"?")
  }

  @Test func unknownDistributionKeywordListsAllowed() {
    let tree = setting(
      shippedJSONTree(),
      ["populations", "obese", "covariates", "weightKilograms", "distribution"], to: "lognormal")
    let issues = decodeError(tree)?.issues ?? []
    #expect(issues.first?.path == "populations.obese.covariates.weightKilograms.distribution")
    #expect(
      issues.first?.message
        == "is \"lognormal\", which is not allowed. Use one of: normal, logNormal, uniform, "
        + "bernoulli, categorical. Did you mean \"logNormal\"?")
  }

  @Test func linearEffectWithoutFloorIsRejected() {
    let tree = setting(
      shippedJSONTree(),
      ["models", "thomson2009", "parameters", "clearance", "typicalValueFloor"], to: NSNull())
    let issues = decodeError(tree)?.issues ?? []
    #expect(issues.map(\.path) == ["models.thomson2009.parameters.clearance.typicalValueFloor"])
  }

  @Test func validationCollectsEveryProblem() {
    var tree = setting(shippedJSONTree(), ["dosing", "episodeHours"], to: 48)
    tree = setting(tree, ["dosing", "simulationStepHours"], to: 0.35)
    tree = setting(
      tree, ["populations", "icu_arc", "covariates", "female", "probability"], to: 1.5)
    let paths = Set(decodeError(tree)?.issues.map(\.path) ?? [])
    #expect(paths.contains("dosing.decisionIntervalHours"))
    #expect(paths.contains("reward.dayWeights"))
    #expect(paths.contains("populations.icu_arc.covariates.female.probability"))
  }

  @Test func malformedJSONIsReported() {
    let error: EnvironmentDefinitionError?
    do {
      _ = try EnvironmentDefinition.decode(from: Data("{\"name\": ".utf8))
      error = nil
    } catch let caught {
      error = caught
    }
    guard case .malformedJSON = error else {
      Issue.record("expected malformedJSON, got \(String(describing: error))")
      return
    }
  }

  @Test func missingFileIsReported() {
    let url = definitionFixtures.appendingPathComponent("does_not_exist.json")
    #expect(throws: EnvironmentDefinitionError.self) {
      _ = try EnvironmentDefinition.load(from: url)
    }
  }
}

/// Hex SHA-256 of `bytes` computed by coreutils' `sha256sum`, an
/// implementation independent of Titrate's.
private func sha256sum(_ bytes: Data) -> String {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = ["sha256sum"]
  let input = Pipe()
  let output = Pipe()
  process.standardInput = input
  process.standardOutput = output
  guard (try? process.run()) != nil else { return "sha256sum not available" }
  input.fileHandleForWriting.write(bytes)
  try? input.fileHandleForWriting.close()
  let data = output.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return String(String(decoding: data, as: UTF8.self).prefix(64))
}
