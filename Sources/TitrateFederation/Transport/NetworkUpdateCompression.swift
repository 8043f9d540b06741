import TitrateRL

/// The encoding of a site's model delta in a result frame. The first payload
/// byte of every result names the encoding, so the aggregator reads either.
public enum UpdateCompression: UInt8, Sendable, CaseIterable {
  /// Float64 values, bit for bit (8 bytes per parameter).
  case none = 0
  /// IEEE 754 half precision (2 bytes per parameter) with error feedback:
  /// the site adds what rounding lost in one round to its next delta, so
  /// the rounding error does not accumulate over rounds. Values beyond
  /// +-65504 are clamped, and the clamped part is fed back too.
  case float16 = 1

  /// The command-line name.
  public var name: String {
    switch self {
    case .none: return "none"
    case .float16: return "float16"
    }
  }
}

/// The error-feedback memory of a site that sends compressed deltas.
struct CompressionResidual: Equatable {
  /// The rounding loss per parameter, empty before the first round.
  var values: [Double] = []

  /// Adds the stored residual to `delta`, rounds the sum to Float16 and
  /// keeps the new rounding error. Returns the values to send.
  mutating func compress(_ delta: [Double]) -> [Float16] {
    if values.count != delta.count { values = Array(repeating: 0, count: delta.count) }
    var halves: [Float16] = []
    halves.reserveCapacity(delta.count)
    for index in delta.indices {
      let target = delta[index] + values[index]
      let clamped = min(max(target, -Double(Float16.greatestFiniteMagnitude)),
        Double(Float16.greatestFiniteMagnitude))
      // A NaN stays NaN, so the aggregator's validation rejects the update.
      let half = target.isNaN ? Float16.nan : Float16(clamped)
      halves.append(half)
      values[index] = target.isNaN ? 0 : target - Double(half)
    }
    return halves
  }
}

extension TransportWriter {
  /// Appends a result in the given encoding, after the encoding byte.
  mutating func append(
    _ result: SiteTrainingResult, compression: UpdateCompression, halves: [Float16]
  ) throws {
    append(Int(compression.rawValue))
    switch compression {
    case .none:
      try append(result)
    case .float16:
      let update = result.update
      append(update.siteName)
      append(update.round)
      // Four halves per 64-bit word, lowest bits first; the last word is
      // padded with zeros.
      append(halves.count)
      var words: [UInt64] = []
      words.reserveCapacity((halves.count + 3) / 4)
      for start in stride(from: 0, to: halves.count, by: 4) {
        var word: UInt64 = 0
        for offset in 0..<min(4, halves.count - start) {
          word |= UInt64(halves[start + offset].bitPattern) << (16 * offset)
        }
        words.append(word)
      }
      append(words)
      append(update.sampleCount)
      append(update.observationStatistics != nil)
      if let statistics = update.observationStatistics { append(statistics) }
      try appendJSON(result.record)
    }
  }
}

extension TransportReader {
  /// Reads a result written by `append(_:compression:halves:)`.
  mutating func readEncodedResult() throws -> (SiteTrainingResult, UpdateCompression) {
    let code = try readInt()
    guard let compression = UpdateCompression(rawValue: UInt8(clamping: max(code, 0))),
      Int(compression.rawValue) == code
    else {
      throw FederationTransportError.malformedMessage(
        "unknown update encoding \(code) (known: 0 none, 1 float16)")
    }
    switch compression {
    case .none:
      return (try readResult(), compression)
    case .float16:
      let siteName = try readString()
      let round = try readInt()
      let count = try readInt()
      let words = try readUInt64s()
      guard count >= 0, words.count == (count + 3) / 4 else {
        throw FederationTransportError.malformedMessage(
          "float16 delta of \(count) values in \(words.count) words")
      }
      let delta = (0..<count).map { index in
        let bits = UInt16(truncatingIfNeeded: words[index / 4] >> (16 * (index % 4)))
        return Double(Float16(bitPattern: bits))
      }
      let sampleCount = try readInt()
      let statistics = try readBool() ? try readNormalizer() : nil
      let update = ModelUpdate(
        siteName: siteName, round: round, delta: delta, sampleCount: sampleCount,
        observationStatistics: statistics)
      return (
        SiteTrainingResult(update: update, record: try readJSON(SiteRoundRecord.self)), compression
      )
    }
  }
}
