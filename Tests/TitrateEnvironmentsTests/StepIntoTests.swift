import Foundation
import Testing

@testable import TitrateEnvironments

/// `VancomycinEnvironment.step(actions:into:)` gives the bits of
/// `step(actions:)`: it writes the next observations while it steps (without
/// a `bayesianEstimate` section) and reuses the arrays it is given.
@Suite struct StepIntoTests {
  /// The shipped definition without the MAP estimate, its baseline and the
  /// shield, as `make bench` measures it.
  static let plainDefinition: EnvironmentDefinition = {
    var tree = shippedJSONTree()
    tree = setting(tree, ["bayesianEstimate"], to: nil)
    tree = setting(tree, ["baselines", "bayesian"], to: nil)
    tree = setting(tree, ["safety", "shield"], to: NSNull())
    let data = try! JSONSerialization.data(withJSONObject: tree)
    return try! EnvironmentDefinition.decode(from: data)
  }()

  /// Actions that vary from patient to patient and step to step: dose
  /// levels, fractions and values out of range, or mg with negative and
  /// non-finite requests.
  static func actions(count: Int, step: Int, mode: DoseActionMode) -> [Float] {
    var state = UInt64(step + 1) &* 0x9E37_79B9_7F4A_7C15
    return (0..<count).map { _ in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      let draw = Float(state >> 40) / Float(1 << 24)
      switch mode {
      case .discreteLevels:
        if state & 0xF0 == 0 { return draw * 20 - 3 }
        return (draw * 13).rounded(.down)
      case .continuousMilligrams:
        if state & 0xFF0 == 0 { return .nan }
        return draw * 4500 - 200
      }
    }
  }

  /// Returns the first index at which two arrays differ in bits or the
  /// shorter one ends, or nil when they are equal bit for bit.
  static func firstDifference(_ a: [Float], _ b: [Float]) -> Int? {
    firstDifference(a.map(\.bitPattern), b.map(\.bitPattern))
  }

  static func firstDifference(_ a: [Double], _ b: [Double]) -> Int? {
    firstDifference(a.map(\.bitPattern), b.map(\.bitPattern))
  }

  static func firstDifference<Bits: Equatable>(_ a: [Bits], _ b: [Bits]) -> Int? {
    for index in 0..<min(a.count, b.count) where a[index] != b[index] { return index }
    return a.count == b.count ? nil : min(a.count, b.count)
  }

  /// Runs two episodes and a step of a third with both step functions on
  /// two equal environments and compares every result.
  static func compare(
    definition: EnvironmentDefinition, batchSize: Int, mode: DoseActionMode,
    automaticallyResets: Bool, shield: Bool = false
  ) throws {
    func make() throws -> VancomycinEnvironment {
      let environment = try VancomycinEnvironment(
        definition: definition, populationName: "icu_arc", batchSize: batchSize,
        streamIdentifier: 3, actionMode: mode)
      environment.recordsOutcomeTable = true
      environment.automaticallyResets = automaticallyResets
      try environment.setShield(enabled: shield)
      return environment
    }
    let plain = try make()
    let reusing = try make()
    var result = EnvironmentStep()
    result.observations = reusing.reset(seed: 11)
    #expect(Self.firstDifference(plain.reset(seed: 11), result.observations) == nil)
    let decisions = definition.dosing.decisionsPerEpisode
    for step in 0..<(2 * decisions + 1) {
      let actions = actions(count: batchSize, step: step, mode: mode)
      let expected = plain.step(actions: actions)
      reusing.step(actions: actions, into: &result)
      #expect(
        Self.firstDifference(expected.observations, result.observations) == nil, "step \(step)")
      #expect(Self.firstDifference(expected.rewards, result.rewards) == nil, "step \(step)")
      #expect(Self.firstDifference(expected.costs, result.costs) == nil, "step \(step)")
      #expect(expected.terminated == result.terminated, "step \(step)")
      #expect(expected.truncated == result.truncated, "step \(step)")
      if expected.terminated[0] {
        #expect(
          Self.firstDifference(expected.finalObservations, result.finalObservations) == nil)
        let expectedTable = plain.drainOutcomeTable()
        let table = reusing.drainOutcomeTable()
        #expect(expectedTable.rowCount == batchSize)
        for name in expectedTable.columnNames {
          #expect(
            Self.firstDifference(expectedTable[column: name]!, table[column: name]!) == nil,
            "column \(name)")
        }
        let expectedTally = plain.drainEpisodeOutcomes()
        let tally = reusing.drainEpisodeOutcomes()
        #expect(expectedTally.episodes == tally.episodes)
        for (name, sum) in expectedTally.sums {
          #expect(sum.bitPattern == tally.sums[name]?.bitPattern, "tally \(name)")
        }
        if !automaticallyResets {
          let observations = plain.reset(seed: UInt64(20 + step))
          result.observations = reusing.reset(seed: UInt64(20 + step))
          #expect(Self.firstDifference(observations, result.observations) == nil)
        }
      }
    }
    #expect(plain.actuatorCounts == reusing.actuatorCounts)
  }

  // 1100 patients span two blocks of `decisionBlockSize`, the second one
  // partial.
  @Test func plainDefinitionDiscrete() throws {
    for resets in [true, false] {
      try Self.compare(
        definition: Self.plainDefinition, batchSize: 1100, mode: .discreteLevels,
        automaticallyResets: resets)
    }
  }

  @Test func plainDefinitionMilligrams() throws {
    try Self.compare(
      definition: Self.plainDefinition, batchSize: 1100, mode: .continuousMilligrams,
      automaticallyResets: true)
  }

  @Test func shippedDefinitionWithEstimate() throws {
    for resets in [true, false] {
      try Self.compare(
        definition: shippedDefinition, batchSize: 7, mode: .discreteLevels,
        automaticallyResets: resets)
    }
  }

  @Test func shippedDefinitionWithShield() throws {
    try Self.compare(
      definition: shippedDefinition, batchSize: 5, mode: .continuousMilligrams,
      automaticallyResets: true, shield: true)
  }
}
