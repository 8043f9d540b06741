import Testing

@testable import TitrateEnvironments

/// Draining the per-episode outcome records that every environment keeps.
@Suite struct OutcomeDrainTests {
  @Test func tallyDrainReturnsAndEmpties() {
    var tally = EpisodeOutcomeTally()
    tally.add("toxicTrough", 1)
    tally.add("toxicTrough", 1)
    tally.episodes = 2
    let drained = tally.drain()
    #expect(drained.episodes == 2)
    #expect(drained.sums["toxicTrough"] == 2)
    #expect(tally == EpisodeOutcomeTally())
  }

  @Test func tableDrainKeepsColumns() {
    var table = OutcomeTable(columnNames: ["dose", "trough"])
    table.appendRow([1000, 12.5])
    table.appendRow([750, 9])
    let drained = table.drain()
    #expect(drained.rowCount == 2)
    #expect(drained.columns["trough"] == [12.5, 9])
    #expect(table.columnNames == ["dose", "trough"])
    #expect(table.rowCount == 0)
  }

  @Test func environmentDrainEmptiesRecords() throws {
    let environment = try VancomycinEnvironment(
      definition: shippedDefinition, populationName: "icu_arc", batchSize: 3)
    environment.recordsOutcomeTable = true
    _ = environment.reset(seed: 1)
    for _ in 0..<6 { _ = environment.step(actions: [4, 4, 4]) }
    #expect(environment.drainEpisodeOutcomes().episodes == 3)
    #expect(environment.drainOutcomeTable().rowCount == 3)
    #expect(environment.drainEpisodeOutcomes().episodes == 0)
    #expect(environment.drainOutcomeTable().rowCount == 0)
  }
}
