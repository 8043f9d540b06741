import Foundation
import Testing

@testable import TitrateEnvironments

@Suite struct SafetyDefinitionTests {
  @Test func shippedThresholdsAndShieldLoad() throws {
    let safety = try #require(shippedDefinition.safety)
    #expect(
      safety.exposureThresholds.map(\.outcome) == [
        "anyTroughAboveLimit", "anyDayAUCAboveUpper", "lastDayUntreated",
      ])
    #expect(safety.exposureThresholds.map(\.maximumRate) == [0.05, 0.05, 0.05])
    #expect(safety.exposureThresholds.map(\.stressLimit) == [0.25, 0.25, 0.25])
    #expect(safety.shield?.maximumPredictedTroughMilligramsPerLiter == 20)
    #expect(safety.shield?.maximumPredictedAUC24MilligramHoursPerLiter == 600)
  }

  @Test func sectionIsOptional() {
    #expect(decodeError(setting(shippedJSONTree(), ["safety"], to: nil)) == nil)
  }

  @Test func rateAboveOneIsRejected() throws {
    var safety = shippedJSONTree()["safety"] as! [String: Any]
    var thresholds = safety["exposureThresholds"] as! [[String: Any]]
    thresholds[1]["maximumRate"] = 1.5
    safety["exposureThresholds"] = thresholds
    let error = try #require(decodeError(setting(shippedJSONTree(), ["safety"], to: safety)))
    #expect(error.issues.map(\.path) == ["safety.exposureThresholds[1].maximumRate"])
    #expect(error.description.contains("1.5"))
  }

  @Test func stressRateAboveOneIsRejected() throws {
    var safety = shippedJSONTree()["safety"] as! [String: Any]
    var thresholds = safety["exposureThresholds"] as! [[String: Any]]
    thresholds[0]["maximumRateInStressCohorts"] = -0.1
    safety["exposureThresholds"] = thresholds
    let error = try #require(decodeError(setting(shippedJSONTree(), ["safety"], to: safety)))
    #expect(error.issues.map(\.path) == ["safety.exposureThresholds[0].maximumRateInStressCohorts"])
  }

  @Test func shieldSpreadOutsideRangeIsRejected() throws {
    let tree = setting(
      shippedJSONTree(), ["safety", "shield", "predictionStandardDeviations"], to: 5)
    let error = try #require(decodeError(tree))
    #expect(error.issues.map(\.path) == ["safety.shield.predictionStandardDeviations"])
    #expect(error.description.contains("5"))
    let inRange = setting(
      shippedJSONTree(), ["safety", "shield", "predictionStandardDeviations"], to: 1.645)
    #expect(decodeError(inRange) == nil)
  }

  @Test func nullOptionalKeyIsExplained() throws {
    let tree = setting(
      shippedJSONTree(), ["safety", "shield", "predictionStandardDeviations"], to: NSNull())
    let error = try #require(decodeError(tree))
    #expect(error.issues.map(\.path) == ["safety.shield.predictionStandardDeviations"])
    #expect(error.description.contains("is null. Leave an optional key out"))
  }

  @Test func unknownOutcomeIsNamed() throws {
    var safety = shippedJSONTree()["safety"] as! [String: Any]
    var thresholds = safety["exposureThresholds"] as! [[String: Any]]
    thresholds[0]["outcome"] = "anyTroughAboveLimt"
    safety["exposureThresholds"] = thresholds
    let error = try #require(decodeError(setting(shippedJSONTree(), ["safety"], to: safety)))
    #expect(error.issues.map(\.path) == ["safety.exposureThresholds[0].outcome"])
    #expect(error.description.contains("Did you mean \"anyTroughAboveLimit\"?"))
  }

  @Test func shieldNeedsTheBayesianEstimate() throws {
    var tree = setting(shippedJSONTree(), ["bayesianEstimate"], to: nil)
    tree = setting(tree, ["baselines", "bayesian"], to: nil)
    let error = try #require(decodeError(tree))
    #expect(error.issues.map(\.path) == ["safety.shield"])
    #expect(error.description.contains("needs the bayesianEstimate section"))
  }

  @Test func duplicateNamesAreRejected() throws {
    var safety = shippedJSONTree()["safety"] as! [String: Any]
    var thresholds = safety["exposureThresholds"] as! [[String: Any]]
    thresholds[1]["name"] = thresholds[0]["name"]
    safety["exposureThresholds"] = thresholds
    let error = try #require(decodeError(setting(shippedJSONTree(), ["safety"], to: safety)))
    #expect(error.issues.map(\.path) == ["safety.exposureThresholds[1].name"])
  }
}

/// Bad timing or limit values are reported once, at their own path, and
/// never reach the computations that depend on them (which would trap).
@Suite struct DerivedValidationTests {
  @Test(arguments: [0.0, 1e-300, -6, 1e300])
  func badDecisionIntervalIsReportedAlone(hours: Double) throws {
    let tree = setting(shippedJSONTree(), ["dosing", "decisionIntervalHours"], to: hours)
    let error = try #require(decodeError(tree))
    #expect(error.issues.map(\.path).allSatisfy { $0.hasPrefix("dosing.") })
    #expect(error.issues.contains { $0.path == "dosing.decisionIntervalHours" })
  }

  @Test func zeroEpisodeLengthIsReportedAlone() throws {
    let tree = setting(shippedJSONTree(), ["dosing", "episodeHours"], to: 0)
    let error = try #require(decodeError(tree))
    #expect(error.issues.map(\.path).contains("dosing.episodeHours"))
    #expect(!error.description.contains("[2, 0]"))
  }

  @Test func zeroSingleDoseLimitIsReportedAlone() throws {
    let tree = setting(
      shippedJSONTree(), ["actuatorLimits", "maximumSingleDoseMilligrams"], to: 0)
    let error = try #require(decodeError(tree))
    #expect(error.issues.map(\.path) == ["actuatorLimits.maximumSingleDoseMilligrams"])
    #expect(!error.description.contains("[250, 0]"))
  }
}

@Suite struct SyntaxErrorTests {
  /// A syntax error names the line and column of the offending character.
  @Test func syntaxErrorNamesLineAndColumn() throws {
    let text = "{\n  \"name\": \"x\",\n  \"models\": {,}\n}"
    do {
      _ = try EnvironmentDefinition.decode(from: Data(text.utf8))
      Issue.record("malformed JSON was accepted")
    } catch {
      #expect(error.description.contains("(line 3, column 14)"))
      #expect(error.description.hasSuffix("Fix the syntax there."))
    }
  }
}
