import Testing

@testable import TitrateFederation

/// Float16 deltas with error feedback: the encoding round trip and the
/// bound on the accumulated error.
struct UpdateCompressionTests {
  static func result(delta: [Double]) -> SiteTrainingResult {
    SiteTrainingResult(
      update: ModelUpdate(
        siteName: "icu_arc", round: 3, delta: delta, sampleCount: 96, observationStatistics: nil),
      record: SiteRoundRecord(
        site: "icu_arc", accepted: true, rejectionReason: nil, status: .accepted,
        environmentSteps: 96, meanEpisodeReturn: -1.5, targetAttainment: 0.5, outcomeMeans: [:],
        episodes: 16, secondsTraining: 0.25))
  }

  @Test func float16RoundTripsHalves() throws {
    let delta = [0.5, -0.25, 1e-3, 3.0, 70_000, -70_000, 0]
    var residual = CompressionResidual()
    let halves = residual.compress(delta)
    var writer = TransportWriter()
    try writer.append(Self.result(delta: delta), compression: .float16, halves: halves)
    var reader = TransportReader(writer.bytes, context: "test")
    let (decoded, compression) = try reader.readEncodedResult()
    #expect(compression == .float16)
    #expect(reader.isAtEnd)
    #expect(decoded.update.delta == halves.map { Double($0) })
    #expect(decoded.update.delta[4] == 65_504)
    #expect(decoded.update.delta[5] == -65_504)
    #expect(decoded.update.sampleCount == 96)
    #expect(decoded.record == Self.result(delta: delta).record)
  }

  @Test func noneKeepsFloat64Bits() throws {
    let delta = [0.1, -1e-300, .pi]
    var writer = TransportWriter()
    try writer.append(Self.result(delta: delta), compression: .none, halves: [])
    var reader = TransportReader(writer.bytes, context: "test")
    let (decoded, compression) = try reader.readEncodedResult()
    #expect(compression == .none)
    #expect(decoded.update.delta == delta)
  }

  @Test func float16UsesQuarterOfBytes() throws {
    let delta = Array(repeating: 0.001, count: 10_000)
    var residual = CompressionResidual()
    var full = TransportWriter()
    try full.append(Self.result(delta: delta), compression: .none, halves: [])
    var half = TransportWriter()
    try half.append(
      Self.result(delta: delta), compression: .float16, halves: residual.compress(delta))
    let ratio = Double(half.bytes.count) / Double(full.bytes.count)
    #expect(ratio > 0.24)
    #expect(ratio < 0.27)
  }

  /// Sends a value that Float16 cannot hold for many rounds. Without
  /// feedback the sum of sent values drifts by the rounding error every
  /// round. With it the sum stays within one Float16 step of the true sum.
  @Test func errorFeedbackBoundsAccumulatedError() {
    let value = 1.0e-3 + 1.0e-7
    var residual = CompressionResidual()
    var sentSum = 0.0
    for _ in 0..<1000 {
      sentSum += Double(residual.compress([value])[0])
    }
    let trueSum = value * 1000
    let step = Double(Float16(value).ulp)
    #expect(abs(sentSum - trueSum) <= step)
    let withoutFeedback = Double(Float16(value)) * 1000
    #expect(abs(withoutFeedback - trueSum) > 10 * step)
  }

  @Test func rejectsUnknownEncoding() {
    var writer = TransportWriter()
    writer.append(7)
    var reader = TransportReader(writer.bytes, context: "test")
    #expect(throws: FederationTransportError.self) { try reader.readEncodedResult() }
  }
}
