import Testing

@testable import TitrateFederation

/// Update compression: hand-worked encodings, the wire round trip, the
/// byte counts, the error-feedback sum and malformed payloads.
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

  /// Encodes `delta` as a result payload and reads it back.
  static func roundTrip(
    _ delta: CompressedDelta, parameterCount: Int? = nil
  ) throws -> (SiteTrainingResult, UpdateCompression) {
    var writer = TransportWriter()
    try writer.append(Self.result(delta: []), encodedDelta: delta)
    var reader = TransportReader(writer.bytes, context: "test")
    let decoded = try reader.readEncodedResult(parameterCount: parameterCount)
    #expect(reader.isAtEnd)
    return decoded
  }

  /// The weight factor rides after the round report, so a result without
  /// it keeps the layout from before the factor existed.
  @Test func weightFactorFollowsTheReport() throws {
    var plainWriter = TransportWriter()
    try plainWriter.append(Self.result(delta: [1, 2]), encodedDelta: .float64([1, 2]))
    var weighted = Self.result(delta: [1, 2])
    weighted.update.weightFactor = 2.5
    var weightedWriter = TransportWriter()
    try weightedWriter.append(weighted, encodedDelta: .float64([1, 2]))
    #expect(weightedWriter.bytes.count == plainWriter.bytes.count + 8)
    #expect(Array(weightedWriter.bytes.prefix(plainWriter.bytes.count)) == plainWriter.bytes)

    var plainReader = TransportReader(plainWriter.bytes, context: "test")
    #expect(try plainReader.readEncodedResult().0.update.weightFactor == nil)
    var weightedReader = TransportReader(weightedWriter.bytes, context: "test")
    #expect(try weightedReader.readEncodedResult().0.update.weightFactor == 2.5)
    #expect(weightedReader.isAtEnd)
  }

  /// A reproducible stream of deltas of mixed magnitudes (SplitMix64).
  struct DeltaStream {
    var state: UInt64
    mutating func next() -> Double {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      z ^= z >> 31
      let unit = Double(z >> 11) / Double(1 << 53) * 2 - 1
      // Magnitudes from 1e-6 to 1, as in a model delta.
      return unit * pow10(-Double(z % 7))
    }
    func pow10(_ exponent: Double) -> Double {
      var value = 1.0
      for _ in 0..<Int(-exponent) { value /= 10 }
      return value
    }
  }

  // MARK: - Parsing

  @Test(arguments: [
    ("none", UpdateCompression.none), ("float16", .float16),
    ("int8", .int8(blockSize: 256)), ("int8:64", .int8(blockSize: 64)),
    ("topk:0.05", .topK(fraction: 0.05)), ("topk:1", .topK(fraction: 1)),
  ])
  func parsesSchemeNames(_ text: String, _ expected: UpdateCompression) throws {
    let parsed = try UpdateCompression(parsing: text)
    #expect(parsed == expected)
    #expect(try UpdateCompression(parsing: parsed.name) == expected)
  }

  @Test(arguments: ["gzip", "topk", "topk:0", "topk:1.5", "topk:nan", "int8:4", "none:1", ""])
  func rejectsInvalidSchemeNames(_ text: String) {
    #expect(throws: UpdateCompressionError.self) { try UpdateCompression(parsing: text) }
  }

  // MARK: - Hand-worked encodings

  @Test func float16RoundTripsHalves() throws {
    let delta = [0.5, -0.25, 1e-3, 3.0, 70_000, -70_000, 0]
    var residual = CompressionResidual()
    let encoded = residual.compress(delta, with: .float16)
    let (decoded, compression) = try Self.roundTrip(encoded, parameterCount: 7)
    #expect(compression == .float16)
    #expect(decoded.update.delta == [0.5, -0.25, Double(Float16(1e-3)), 3, 65_504, -65_504, 0])
    #expect(residual.values[4] == 70_000 - 65_504)
    #expect(decoded.update.sampleCount == 96)
    #expect(decoded.record == Self.result(delta: delta).record)
  }

  @Test func noneKeepsFloat64Bits() throws {
    let delta = [0.1, -1e-300, .pi, -0.0]
    var residual = CompressionResidual()
    let (decoded, compression) = try Self.roundTrip(residual.compress(delta, with: .none))
    #expect(compression == .none)
    #expect(decoded.update.delta.map(\.bitPattern) == delta.map(\.bitPattern))
    #expect(residual.values == [0, 0, 0, 0])
  }

  /// Block 1 has max|x| = 127 x 2^-7, so its scale is 2^-7 exactly; block
  /// 2 has 127 x 2^-10. Ties (1.5 and 0.5 steps) round away from zero.
  @Test func int8QuantisesHandWorkedBlocks() throws {
    let step1 = 0.0078125
    let step2 = 0.0009765625
    let delta = [
      127 * step1, -0.5, 1.5 * step1, -1.5 * step1, 0.5 * step1, 0, 0.2 * step1, -0.7 * step1,
      127 * step2, 3 * step2,
    ]
    var residual = CompressionResidual()
    let encoded = residual.compress(delta, with: .int8(blockSize: 8))
    #expect(
      encoded
        == .int8(
          blockSize: 8, scales: [Float(step1), Float(step2)],
          values: [127, -64, 2, -2, 1, 0, 0, -1, 127, 3]))
    let expectedSent = [
      127 * step1, -0.5, 2 * step1, -2 * step1, step1, 0, 0, -step1, 127 * step2, 3 * step2,
    ]
    let (decoded, compression) = try Self.roundTrip(encoded, parameterCount: 10)
    #expect(compression == .int8(blockSize: 8))
    #expect(decoded.update.delta == expectedSent)
    #expect(residual.values == zip(delta, expectedSent).map { $0 - $1 })
  }

  @Test func int8SendsZeroBlockAsZeroScale() throws {
    var residual = CompressionResidual()
    let encoded = residual.compress(Array(repeating: 0, count: 8), with: .int8(blockSize: 8))
    #expect(encoded == .int8(blockSize: 8, scales: [0], values: Array(repeating: 0, count: 8)))
    #expect(try Self.roundTrip(encoded).0.update.delta == Array(repeating: 0, count: 8))
  }

  /// k = ceil(0.5 x 6) = 3. Magnitudes 0.5 and 0.375 are kept, and the
  /// tie at 0.25 goes to the lower index. The next round, with a zero
  /// delta, sends what was held back.
  @Test func topKKeepsLargestAndFeedsBackRest() throws {
    let delta = [0.125, -0.5, 0.25, -0.375, 0.0625, 0.25]
    var residual = CompressionResidual()
    let first = residual.compress(delta, with: .topK(fraction: 0.5))
    #expect(
      first == .topK(fraction: 0.5, count: 6, indices: [1, 2, 3], values: [-0.5, 0.25, -0.375]))
    #expect(residual.values == [0.125, 0, 0, 0, 0.0625, 0.25])
    let (decoded, compression) = try Self.roundTrip(first, parameterCount: 6)
    #expect(compression == .topK(fraction: 0.5))
    #expect(decoded.update.delta == [0, -0.5, 0.25, -0.375, 0, 0])

    let second = residual.compress(Array(repeating: 0, count: 6), with: .topK(fraction: 0.5))
    #expect(
      second == .topK(fraction: 0.5, count: 6, indices: [0, 4, 5], values: [0.125, 0.0625, 0.25]))
    #expect(residual.values == Array(repeating: 0, count: 6))
  }

  @Test func keptCountRoundsUp() {
    #expect(UpdateCompression.topK(fraction: 0.05).keptCount(of: 12_942) == 648)
    #expect(UpdateCompression.topK(fraction: 0.001).keptCount(of: 10) == 1)
    #expect(UpdateCompression.topK(fraction: 1).keptCount(of: 10) == 10)
    #expect(UpdateCompression.topK(fraction: 0.5).keptCount(of: 0) == 0)
  }

  // MARK: - Bytes

  /// The payload of each scheme is the Float64 payload minus the
  /// difference that `encodedDeltaBytes` predicts, for counts that do and
  /// do not fill the last word or block.
  @Test(arguments: [1, 7, 256, 12_942])
  func encodedBytesMatchPrediction(_ count: Int) throws {
    var stream = DeltaStream(state: UInt64(count))
    let delta = (0..<count).map { _ in stream.next() }
    var full = TransportWriter()
    try full.append(Self.result(delta: delta), encodedDelta: .float64(delta))
    let schemes: [UpdateCompression] = [
      .float16, .int8(blockSize: 256), .int8(blockSize: 8), .topK(fraction: 0.05),
    ]
    for compression in schemes {
      var residual = CompressionResidual()
      var writer = TransportWriter()
      try writer.append(
        Self.result(delta: delta), encodedDelta: residual.compress(delta, with: compression))
      let saved =
        UpdateCompression.none.encodedDeltaBytes(parameterCount: count)
        - compression.encodedDeltaBytes(parameterCount: count)
      #expect(full.bytes.count - writer.bytes.count == saved, "\(compression.name)")
    }
  }

  // MARK: - Error feedback

  /// Over 40 rounds of 1,000 deltas, what the aggregator decoded plus the
  /// final residual equals the sum of the deltas. Each round rounds
  /// `delta + residual` once in Float64, so the tolerance is 40 x 2^-52
  /// of the largest partial sum, with a factor 4 for the summations.
  @Test(arguments: [
    UpdateCompression.float16, .int8(blockSize: 256), .int8(blockSize: 8), .topK(fraction: 0.05),
  ])
  func errorFeedbackConservesSum(_ compression: UpdateCompression) throws {
    let count = 1_000
    var stream = DeltaStream(state: 42)
    var residual = CompressionResidual()
    var inputSum = [Double](repeating: 0, count: count)
    var sentSum = [Double](repeating: 0, count: count)
    var magnitude = [Double](repeating: 0, count: count)
    for _ in 0..<40 {
      let delta = (0..<count).map { _ in stream.next() }
      let (decoded, _) = try Self.roundTrip(
        residual.compress(delta, with: compression), parameterCount: count)
      for index in 0..<count {
        inputSum[index] += delta[index]
        sentSum[index] += decoded.update.delta[index]
        magnitude[index] += abs(delta[index])
      }
    }
    for index in 0..<count {
      let tolerance = 4 * 40 * Double.ulpOfOne * max(magnitude[index], 1e-300)
      let error = abs(sentSum[index] + residual.values[index] - inputSum[index])
      #expect(error <= tolerance, "\(compression.name) index \(index): \(error)")
    }
  }

  /// Sends a value that Float16 cannot hold for many rounds. Without
  /// feedback the sum of sent values drifts by the rounding error every
  /// round. With it the sum stays within one Float16 step of the true sum.
  @Test func errorFeedbackBoundsAccumulatedError() {
    let value = 1.0e-3 + 1.0e-7
    var residual = CompressionResidual()
    var sentSum = 0.0
    for _ in 0..<1000 {
      sentSum += residual.compress([value], with: .float16).decoded()[0]
    }
    let trueSum = value * 1000
    let step = Double(Float16(value).ulp)
    #expect(abs(sentSum - trueSum) <= step)
    let withoutFeedback = Double(Float16(value)) * 1000
    #expect(abs(withoutFeedback - trueSum) > 10 * step)
  }

  @Test(arguments: [UpdateCompression.float16, .int8(blockSize: 8), .topK(fraction: 0.5)])
  func nonFiniteDeltaLeavesResidualFinite(_ compression: UpdateCompression) {
    var residual = CompressionResidual()
    _ = residual.compress([1, .nan, -2, .infinity, 0.5, 0, 0, 0], with: compression)
    let nonFinite = residual.values.filter { !$0.isFinite }
    #expect(nonFinite.isEmpty, "\(compression.name): \(residual.values)")
  }
}
