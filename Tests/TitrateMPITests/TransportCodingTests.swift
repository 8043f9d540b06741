import Testing
import TitratePolicy

@testable import TitrateFederation

/// The placement rule and the binary messages between ranks.
struct TransportCodingTests {
  @Test func placementIsRoundRobin() {
    let placement = SitePlacement(rankCount: 3)

    #expect((0..<7).map { placement.rank(ofSite: $0) } == [0, 1, 2, 0, 1, 2, 0])
    #expect(placement.sites([0, 1, 2, 3, 4, 5, 6], onRank: 0) == [0, 3, 6])
    #expect(placement.sites([5, 1, 4], onRank: 1) == [1, 4])
  }

  @Test func ranksBeyondSitesAreIdle() {
    let placement = SitePlacement(rankCount: 5)

    #expect(placement.sites([0, 1, 2], onRank: 3) == [])
    #expect(placement.sites([0, 1, 2], onRank: 4) == [])
  }

  @Test func valuesRoundTripBitForBit() throws {
    let doubles = [0.1, -0.0, .infinity, Double(nan: 0x1234, signaling: false), 1e-308]
    let floats: [Float] = [1.5, -0.0, .nan, .leastNonzeroMagnitude]
    var writer = TransportWriter()
    writer.append(doubles)
    writer.append(floats)
    writer.append([UInt64.max, 0])
    writer.append("site é")
    writer.append(-42)

    var reader = TransportReader(writer.bytes, context: "test")
    let readDoubles = try reader.readDoubles()
    let readFloats = try reader.readFloats()

    #expect(readDoubles.map(\.bitPattern) == doubles.map(\.bitPattern))
    #expect(readFloats.map(\.bitPattern) == floats.map(\.bitPattern))
    #expect(try reader.readUInt64s() == [UInt64.max, 0])
    #expect(try reader.readString() == "site é")
    #expect(try reader.readInt() == -42)
    #expect(reader.isAtEnd)
  }

  @Test func truncatedMessageIsRejected() {
    var writer = TransportWriter()
    writer.append([1.0, 2.0, 3.0])
    let cut = Array(writer.bytes.dropLast(4))
    var reader = TransportReader(cut, context: "round 2 reply from rank 1")

    #expect(throws: FederationTransportError.self) { try reader.readDoubles() }
    var second = TransportReader(cut, context: "round 2 reply from rank 1")
    do {
      _ = try second.readDoubles()
    } catch let error as FederationTransportError {
      #expect("\(error)".contains("round 2 reply from rank 1"))
    } catch {
      Issue.record("unexpected error \(error)")
    }
  }

  @Test func siteResultRoundTrips() throws {
    let statistics = RunningNormalizer.State(mean: [1, 2], variance: [0.5, 0.25], count: 32)
    let update = ModelUpdate(
      siteName: "icu_arc", round: 3, delta: [0.25, -1e-9, .nan], sampleCount: 96,
      observationStatistics: statistics)
    let record = SiteRoundRecord(
      site: "icu_arc", accepted: true, rejectionReason: nil, status: .accepted,
      environmentSteps: 96, meanEpisodeReturn: -5.25, meanEpisodeCost: 0.1,
      targetAttainment: 1.0 / 3.0, outcomeMeans: ["day3InTarget": 1.0 / 3.0], episodes: 16,
      secondsTraining: 0.125)
    var writer = TransportWriter()
    try writer.append(SiteTrainingResult(update: update, record: record))

    var reader = TransportReader(writer.bytes, context: "test")
    let decoded = try reader.readResult()

    #expect(decoded.update.siteName == "icu_arc")
    #expect(decoded.update.round == 3)
    #expect(decoded.update.delta.map(\.bitPattern) == update.delta.map(\.bitPattern))
    #expect(decoded.update.sampleCount == 96)
    #expect(decoded.update.observationStatistics == statistics)
    #expect(decoded.update.weightFactor == nil)
    #expect(decoded.record == record)
    #expect(reader.isAtEnd)
  }

  /// The factor of advantage-scaled weights travels bit for bit, and a
  /// second result after it still reads from the right offset.
  @Test func weightFactorRoundTrips() throws {
    var weighted = ModelUpdate(
      siteName: "obese", round: 2, delta: [1, 2], sampleCount: 8, observationStatistics: nil)
    weighted.weightFactor = 0.1 + 0.2
    let plain = ModelUpdate(
      siteName: "icu_arc", round: 2, delta: [3], sampleCount: 8, observationStatistics: nil)
    let record = SiteRoundRecord(
      site: "obese", accepted: true, rejectionReason: nil, status: .accepted,
      environmentSteps: 8, meanEpisodeReturn: nil, targetAttainment: nil, outcomeMeans: [:],
      episodes: 0, secondsTraining: 0)
    var writer = TransportWriter()
    try writer.append(SiteTrainingResult(update: weighted, record: record))
    try writer.append(SiteTrainingResult(update: plain, record: record))

    var reader = TransportReader(writer.bytes, context: "test")
    let first = try reader.readResult()
    let second = try reader.readResult()
    #expect(first.update.weightFactor?.bitPattern == (0.1 + 0.2).bitPattern)
    #expect(second.update.weightFactor == nil)
    #expect(second.update.delta == [3])
    #expect(reader.isAtEnd)
  }
}
