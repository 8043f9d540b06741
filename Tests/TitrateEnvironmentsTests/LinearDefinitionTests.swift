import Foundation
import Testing

@testable import TitrateEnvironments

/// The shipped linear-kind definition files.
let gentamicinDefinitionURL = repositoryRoot.appendingPathComponent(
  "Environments/pkpd/gentamicin.json")
let exampleOralDefinitionURL = repositoryRoot.appendingPathComponent(
  "Environments/pkpd/example_oral.json")

/// Loads a shipped linear-kind definition or stops the test run.
func loadLinearDefinition(_ url: URL) -> LinearDefinition {
  do {
    return try LinearDefinition.load(from: url)
  } catch {
    fatalError("shipped definition \(url.lastPathComponent) failed to load: \(error)")
  }
}

/// Returns a JSON file as a mutable tree.
func linearJSONTree(_ url: URL) -> [String: Any] {
  let data = try! Data(contentsOf: url)
  return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
}

/// Returns `tree` with the value at `path` replaced; an Int in the path
/// indexes an array, and a nil value stores JSON null.
func settingLinearValue(_ tree: Any, _ path: [Any], to value: Any?) -> Any {
  guard let head = path.first else { return value ?? NSNull() }
  let rest = Array(path.dropFirst())
  if let index = head as? Int, var array = tree as? [Any] {
    array[index] = settingLinearValue(array[index], rest, to: value)
    return array
  }
  var object = tree as! [String: Any]
  let key = head as! String
  object[key] = settingLinearValue(object[key] ?? NSNull(), rest, to: value)
  return object
}

/// Returns the issues of decoding `tree`, or nil when it loads.
func linearIssues(_ tree: Any) -> [DefinitionIssue]? {
  let data = try! JSONSerialization.data(withJSONObject: tree)
  do {
    _ = try LinearDefinition.decode(from: data)
    return nil
  } catch {
    return error.issues
  }
}

/// Checks the strict loader of linear-kind definitions.
@Suite struct LinearDefinitionTests {
  @Test func shippedDefinitionsLoad() {
    let gentamicin = loadLinearDefinition(gentamicinDefinitionURL)
    #expect(gentamicin.name == "gentamicin")
    #expect(gentamicin.dosing.actionCount == 20)
    #expect(gentamicin.baselineNames == ["hartford", "fixed_7mgkg_q24h"])
    let oral = loadLinearDefinition(exampleOralDefinitionURL)
    #expect(oral.model.route == .oral)
    #expect(oral.dosing.actionCount == 4)
  }

  /// Each case: where the file is changed, the new value, the path the
  /// loader must name, and a fragment of the fix it must state.
  static var badValues: [([Any], Any?, String, String)] {
    [
      (["model", "compartments"], 4, "model.compartments", "must be 1, 2 or 3"),
      (
        ["model", "compartments"], 1.5, "model.compartments",
        "is 1.5, but must be a whole number"
      ),
      (
        ["dosing", "decisionsPerEpisode"], 1e300, "dosing.decisionsPerEpisode",
        "must be a whole number"
      ),
      (
        ["model", "parameters", "clearance", "unit"], "mg", "model.parameters.clearance.unit",
        "Convert the value"
      ),
      (
        ["model", "parameters", "clearance", "typicalValue"], -2.3,
        "model.parameters.clearance.typicalValue", "must be in (0, 1000]"
      ),
      (["model", "bioavailability"], 0.5, "model.bioavailability", "Set it to 1"),
      (
        ["model", "correlations", 0, "second"], "peripheralVolumes[0]",
        "model.correlations[0].second", "Correlate only parameters with `variability`"
      ),
      (["dosing", "infusionHours"], 0.3, "dosing.infusionHours", "whole multiple"),
      (["dosing", "doseLevels"], [3, 5, 4], "dosing.doseLevels[2]", "increasing order"),
      (
        ["measurements", "levelHoursAfterDose"], [1, 12], "measurements.levelHoursAfterDose[1]",
        "Draw each level at or before the decision"
      ),
      (
        ["measurements", "decisionHoursAfterDose"], 24, "measurements.decisionHoursAfterDose",
        "Decide before the next dose"
      ),
      (
        ["targets", "minimumInhibitoryConcentrationMilligramsPerLiter"], nil,
        "targets.minimumInhibitoryConcentrationMilligramsPerLiter", "Set the MIC in mg/L"
      ),
      (["baselines", 0, "dose"], 6.5, "baselines[0].dose", "which is not a dose level"),
      (
        ["baselines", 0, "intervalAboveLastBoundaryHours"], 96,
        "baselines[0].intervalAboveLastBoundaryHours", "not an interval choice"
      ),
      (["baselines", 0, "levelIndex"], 0, "baselines[0].levelIndex", "outside the chart"),
      (
        ["population", "covariates", "weightKilograms", "mean"], 500,
        "population.covariates.weightKilograms.mean", "[30, 300] kg"
      ),
    ]
  }

  @Test(arguments: badValues.indices)
  func badValueIsRejectedWithPathAndFix(case index: Int) {
    let (path, value, expectedPath, fix) = Self.badValues[index]
    let tree = settingLinearValue(linearJSONTree(gentamicinDefinitionURL), path, to: value)
    let found = linearIssues(tree) ?? []
    let match = found.first { $0.path == expectedPath }
    #expect(match != nil, "expected an issue at \(expectedPath), got \(found)")
    #expect(match?.message.contains(fix) == true, "message: \(match?.message ?? "none")")
  }

  /// The 1-h level lies outside all three Hartford lines (6-14 h): one
  /// issue names every line instead of one copy per line.
  @Test func chartLevelOutsideLinesIsReportedOnce() {
    let tree = settingLinearValue(
      linearJSONTree(gentamicinDefinitionURL), ["baselines", 0, "levelIndex"], to: 0)
    let found = linearIssues(tree) ?? []
    #expect(found.map(\.path) == ["baselines[0].levelIndex"], "\(found)")
    let message = found.first?.message ?? ""
    #expect(message.contains("selects the level at 1 h, outside the chart"), "\(message)")
    for line in 0..<3 {
      #expect(message.contains("boundaries[\(line)] (6-14 h)"), "\(message)")
    }
  }

  /// A line drawn from 14 h back to 6 h is reported on its times alone, not
  /// also as a "14-6 h" span that leaves out the 10-h level.
  @Test func reversedChartTimesReportedOnce() {
    let tree = settingLinearValue(
      linearJSONTree(gentamicinDefinitionURL),
      ["baselines", 0, "boundaries", 0, "timesHours"], to: [14, 6])
    let found = linearIssues(tree) ?? []
    #expect(found.map(\.path) == ["baselines[0].boundaries[0].timesHours[1]"], "\(found)")
    let message = found.first?.message ?? ""
    #expect(message.contains("List the points in increasing time"), "\(message)")
    #expect(!found.contains { $0.message.contains("14-6 h") }, "\(found)")
  }

  /// A minimum above the maximum is reported on the bounds alone, not also
  /// as a negative share of the distribution kept between them.
  @Test func reversedCovariateBoundsReportedOnce() {
    for (covariate, minimum) in [
      ("weightKilograms", 200.0), ("serumCreatinineMilligramsPerDeciliter", 10),
    ] {
      let tree = settingLinearValue(
        linearJSONTree(gentamicinDefinitionURL),
        ["population", "covariates", covariate, "minimum"], to: minimum)
      let found = linearIssues(tree) ?? []
      #expect(
        found.map(\.path) == ["population.covariates.\(covariate).maximum"],
        "\(covariate): \(found)")
      #expect(!found.contains { $0.message.contains("of the distribution") }, "\(found)")
    }
  }

  /// Each of CL-V1 0.9, CL-Q 0.9 and V1-Q -0.9 is in range, but not all
  /// three together: the correlation matrix is not positive definite.
  @Test func contradictoryCorrelationsAreRejected() {
    var tree = settingLinearValue(
      linearJSONTree(gentamicinDefinitionURL),
      ["model", "parameters", "intercompartmentalClearances", 0, "variability"],
      to: ["scale": "coefficientOfVariation", "value": 0.3])
    let pairs: [(String, String, Double)] = [
      ("clearance", "centralVolume", 0.9), ("clearance", "intercompartmentalClearances[0]", 0.9),
      ("centralVolume", "intercompartmentalClearances[0]", -0.9),
    ]
    tree = settingLinearValue(
      tree, ["model", "correlations"],
      to: pairs.map { ["first": $0.0, "second": $0.1, "coefficient": $0.2] })
    let found = linearIssues(tree) ?? []
    #expect(found.map(\.path) == ["model.correlations"])
    #expect(found.first?.message.contains("do not form a valid correlation matrix") == true)
    let consistent = settingLinearValue(tree, ["model", "correlations", 2, "coefficient"], to: 0.9)
    #expect(linearIssues(consistent) == nil)
  }

  /// In mg, a level above the dose cap could never be given; in mg/kg
  /// (gentamicin) the cap binds only for heavy patients and is accepted.
  @Test func doseCapBelowLevelsInMilligramsIsRejected() {
    let tree = settingLinearValue(
      linearJSONTree(exampleOralDefinitionURL), ["safety", "maximumDoseMilligrams"], to: 350)
    let found = linearIssues(tree) ?? []
    #expect(found.map(\.path) == ["safety.maximumDoseMilligrams"])
    #expect(found.first?.message.contains("below the largest dose level (400.0 mg)") == true)
    let perKilogram = settingLinearValue(
      linearJSONTree(gentamicinDefinitionURL), ["safety", "maximumDoseMilligrams"], to: 300)
    #expect(linearIssues(perKilogram) == nil)
  }

  @Test func oralRouteWithoutAbsorptionRateIsRejected() {
    let tree = settingLinearValue(
      linearJSONTree(exampleOralDefinitionURL), ["model", "parameters", "absorptionRate"],
      to: nil)
    let found = linearIssues(tree) ?? []
    #expect(found.map(\.path) == ["model.parameters.absorptionRate"])
    #expect(found.first?.message.contains("Add it in 1/h") == true)
  }

  @Test func misspelledKeySuggestsTheKnownOne() {
    var tree = linearJSONTree(gentamicinDefinitionURL)
    var dosing = tree["dosing"] as! [String: Any]
    dosing["doseLevel"] = dosing.removeValue(forKey: "doseLevels")
    tree["dosing"] = dosing
    let found = linearIssues(tree) ?? []
    #expect(found.first?.path == "dosing.doseLevels")
    #expect(found.first?.message.contains("\"doseLevel\" here may be a misspelling") == true)
  }

  @Test func unknownRouteListsTheAllowedOnes() {
    let tree = settingLinearValue(
      linearJSONTree(gentamicinDefinitionURL), ["model", "route"], to: "intravenousInfusoin")
    let found = linearIssues(tree) ?? []
    #expect(found.first?.path == "model.route")
    #expect(found.first?.message.contains("Did you mean \"intravenousInfusion\"?") == true)
  }

  @Test func wrongKindIsRejected() {
    let tree = settingLinearValue(
      linearJSONTree(gentamicinDefinitionURL), ["kind"], to: "warfarin")
    let found = linearIssues(tree) ?? []
    #expect(found.map(\.path) == ["kind"])
  }

  @Test func cohortFileReplacesTheDistributions() throws {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("linear-cohort-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let header =
      "ageYears,weightKilograms,female,serumCreatinineMilligramsPerDeciliter,haemodialysis\n"
    let cohortURL = folder.appendingPathComponent("cohort.csv")
    try (header + "40,100,0,1.0,0\n").write(to: cohortURL, atomically: true, encoding: .utf8)
    let tree = settingLinearValue(
      linearJSONTree(gentamicinDefinitionURL), ["population", "cohortFile"], to: "cohort.csv")
    let definitionURL = folder.appendingPathComponent("gentamicin.json")
    try JSONSerialization.data(withJSONObject: tree).write(to: definitionURL)

    let definition = try LinearDefinition.load(from: definitionURL)
    #expect(definition.cohort?.rows.count == 1)
    let environment = try LinearEnvironment(definition: definition, batchSize: 3)
    #expect(environment.patients.allSatisfy { $0.covariates.weightKilograms == 100 })

    // Weight 0 is impossible, so the loader must name the column.
    try (header + "40,0,0,1,0\n").write(to: cohortURL, atomically: true, encoding: .utf8)
    #expect {
      _ = try LinearDefinition.load(from: definitionURL)
    } throws: { error in
      let issue = (error as? EnvironmentDefinitionError)?.issues.first
      return issue?.path == "population.cohortFile"
        && issue?.message.contains("weightKilograms") == true
    }
  }
}
