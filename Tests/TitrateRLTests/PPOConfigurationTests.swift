import Foundation
import Testing

@testable import TitrateRL

@Suite struct PPOConfigurationTests {
  @Test func defaultsAreValid() throws {
    try PPOConfiguration().validate()
  }

  @Test func validateListsEveryProblem() {
    var configuration = PPOConfiguration()
    configuration.stepsPerRollout = 0
    configuration.gamma = 1.5
    configuration.hiddenSizes = [64, 0]
    do {
      try configuration.validate()
      Issue.record("validate accepted an invalid configuration")
    } catch {
      #expect(error.problems.count == 3)
      #expect(error.description.contains("stepsPerRollout is 0"))
      #expect(error.description.contains("gamma is 1.5; use a value in [0, 1]"))
      #expect(error.description.contains("hiddenSizes is [64, 0]"))
    }
  }

  @Test func decodingKeepsDefaultsForAbsentKeys() throws {
    let json = Data(#"{"learningRate": 0.001, "hiddenSizes": [32]}"#.utf8)
    let decoded = try JSONDecoder().decode(PPOConfiguration.self, from: json)
    var expected = PPOConfiguration()
    expected.learningRate = 0.001
    expected.hiddenSizes = [32]
    #expect(decoded == expected)
    let roundTrip = try JSONDecoder().decode(
      PPOConfiguration.self, from: JSONEncoder().encode(expected))
    #expect(roundTrip == expected)
  }
}
