import Foundation
import Testing

@testable import TitrateEnvironments

/// Checks the strict loader of warfarin definitions.
@Suite struct WarfarinDefinitionTests {
  /// Returns the shipped file as a mutable JSON tree.
  static func shippedTree() -> [String: Any] {
    let data = try! Data(contentsOf: warfarinDefinitionURL)
    return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
  }

  /// Returns `tree` with the value at `path` replaced (nil removes it).
  static func setting(_ tree: [String: Any], _ path: [String], to value: Any?) -> [String: Any] {
    var copy = tree
    guard let key = path.first else { return copy }
    if path.count == 1 {
      copy[key] = value
    } else {
      copy[key] = setting(copy[key] as! [String: Any], Array(path.dropFirst()), to: value)
    }
    return copy
  }

  /// Returns the issues of decoding `tree`, or nil when it loads.
  static func issues(_ tree: [String: Any]) -> [DefinitionIssue]? {
    let data = try! JSONSerialization.data(withJSONObject: tree)
    do {
      _ = try WarfarinDefinition.decode(from: data)
      return nil
    } catch {
      return error.issues
    }
  }

  @Test func shippedDefinitionLoads() {
    #expect(warfarinDefinition.name == "warfarin")
    #expect(warfarinDefinition.dosing.doseLevelCount == 31)
    #expect(warfarinDefinition.dosing.stepsPerDay == 48)
    #expect(!warfarinDefinition.contentHashSHA256.isEmpty)
  }

  @Test func outOfRangeValueNamesPathRangeAndFix() {
    let tree = Self.setting(Self.shippedTree(), ["model", "hillCoefficient"], to: -1)
    let found = Self.issues(tree) ?? []
    #expect(found.count == 1)
    #expect(found.first?.path == "model.hillCoefficient")
    #expect(found.first?.message == "is -1, but must be in (0, 10]. Set a value in that range.")
  }

  @Test func misspelledKeySuggestsTheKnownOne() {
    var tree = Self.shippedTree()
    var model = tree["model"] as! [String: Any]
    model["hillCoeficient"] = model.removeValue(forKey: "hillCoefficient")
    tree["model"] = model
    let found = Self.issues(tree) ?? []
    #expect(found.count == 1)
    #expect(found.first?.path == "model.hillCoefficient")
    #expect(found.first?.message.contains("\"hillCoeficient\" here may be a misspelling") == true)
  }

  @Test func extraKeyIsRejectedWithKnownKeys() {
    let tree = Self.setting(Self.shippedTree(), ["dosing", "notes"], to: "titrate slowly")
    let found = Self.issues(tree) ?? []
    #expect(found.count == 1)
    #expect(found.first?.path == "dosing.notes")
    #expect(
      found.first?.message
        == "is not a known key. Remove it, or use one of: doseStepMilligrams, episodeDays, "
        + "integrationStepHours, maximumDailyDoseMilligrams.")
  }

  @Test func unknownKeywordListsAllowedValues() {
    let tree = Self.setting(
      Self.shippedTree(), ["model", "transitRateConvention"], to: "perCompartmnt")
    let found = Self.issues(tree) ?? []
    #expect(found.first?.path == "model.transitRateConvention")
    #expect(
      found.first?.message
        == "is \"perCompartmnt\", which is not allowed. Use one of: perCompartment, "
        + "wholeChain. Did you mean \"perCompartment\"?")
  }

  @Test func collectsEveryProblemAtOnce() {
    var tree = Self.shippedTree()
    var frequencies =
      (tree["population"] as! [String: Any])["cyp2c9Frequencies"]
      as! [String: Any]
    frequencies.removeValue(forKey: "*3/*3")
    frequencies["*1/*4"] = 0.013
    tree = Self.setting(tree, ["population", "cyp2c9Frequencies"], to: frequencies)
    tree = Self.setting(tree, ["dosing", "integrationStepHours"], to: 0.7)
    tree = Self.setting(tree, ["measurements", "inrDays"], to: [1, 5, 3, 120])
    let found = Self.issues(tree) ?? []
    let paths = found.map(\.path)
    #expect(paths.contains("population.cyp2c9Frequencies.*1/*4"))
    #expect(paths.contains("population.cyp2c9Frequencies.*3/*3"))
    #expect(paths.contains("dosing.integrationStepHours"))
    #expect(paths.contains("measurements.inrDays[2]"))
    #expect(paths.contains("measurements.inrDays[3]"))
    let stepIssue = found.first { $0.path == "dosing.integrationStepHours" }
    #expect(
      stepIssue?.message
        == "is 0.7 h, which does not divide 24 h. Use 1, 0.5, 0.25 or another divisor of 24 h.")
    let dayIssue = found.first { $0.path == "measurements.inrDays[3]" }
    #expect(
      dayIssue?.message
        == "is day 120, but must be in [1, 90] (the episode's days). Remove it or lengthen "
        + "the episode.")
  }

  @Test func frequenciesMustSumToOne() {
    var frequencies =
      (Self.shippedTree()["population"] as! [String: Any])["vkorc1Frequencies"]
      as! [String: Any]
    frequencies["AA"] = 0.3
    let tree = Self.setting(
      Self.shippedTree(), ["population", "vkorc1Frequencies"], to: frequencies)
    let found = Self.issues(tree) ?? []
    #expect(found.map(\.path) == ["population.vkorc1Frequencies"])
    #expect(
      found.first?.message
        == "sums to 1.1, but frequencies must sum to 1 (within 1e-6). Rescale them.")
  }

  @Test func wrongKindIsRejected() {
    let tree = Self.setting(Self.shippedTree(), ["kind"], to: "vancomycin")
    let found = Self.issues(tree) ?? []
    #expect(found.map(\.path) == ["kind"])
  }

  @Test func adjustmentBandsMustStartAtZeroAndIncrease() {
    let bands: [[String: Any]] = [
      ["minimumINR": 1.0, "weeklyDoseChangeFraction": 0.1, "holdDays": 0],
      ["minimumINR": 0.5, "weeklyDoseChangeFraction": 0.0, "holdDays": 9],
    ]
    let tree = Self.setting(Self.shippedTree(), ["baselines", "adjustment", "bands"], to: bands)
    let paths = (Self.issues(tree) ?? []).map(\.path)
    #expect(
      paths == [
        "baselines.adjustment.bands[0].minimumINR", "baselines.adjustment.bands[1].minimumINR",
        "baselines.adjustment.bands[1].holdDays",
      ])
  }
}

@Suite struct WarfarinEpisodeLengthTests {
  /// An invalid episode length is the one problem reported, not every
  /// measurement day it would exclude.
  @Test func invalidEpisodeLengthIsReportedAlone() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Environments/pkpd/warfarin.json")
    let text = try String(contentsOf: url, encoding: .utf8)
      .replacingOccurrences(of: "\"episodeDays\": 90", with: "\"episodeDays\": 0")
    do {
      _ = try WarfarinDefinition.decode(from: Data(text.utf8))
      Issue.record("episodeDays 0 was accepted")
    } catch {
      #expect(error.issues.map(\.path) == ["dosing.episodeDays"])
    }
  }
}
