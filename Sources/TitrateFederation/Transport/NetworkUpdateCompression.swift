import TitrateRL

// The layout of a result payload, in `TransportWriter`'s little-endian
// encoding:
//
//   Int     encoding code: 0 none, 1 float16, 2 int8, 3 topk
//   String  site name
//   Int     round
//   ...     the delta, by encoding (below)
//   Int     sample count; Bool and statistics; JSON round report
//   Double  weight factor, only under advantage-scaled weights
//
// Deltas by encoding follow. "words" is an Int count, then that many
// UInt64 words packed lowest bits first. The writer pads the last word
// with zero bits, and the reader ignores the padding.
//
//   none     [Double] (Int count, then 8 bytes per value)
//   float16  Int count; words of 4 half-precision bit patterns
//   int8     Int block size; Int count; [Float] scales, one per block;
//            words of 8 two's-complement bytes
//   topk     Double kept fraction; Int dense count; words of 2 UInt32
//            indices, strictly increasing; [Float] kept values
//
// Code 0 keeps the layout of results from before compression existed.

extension TransportWriter {
  /// Appends a result whose delta is `delta` (the result's own delta is
  /// not written).
  mutating func append(_ result: SiteTrainingResult, encodedDelta delta: CompressedDelta) throws {
    let update = result.update
    append(delta.compression.wireCode)
    append(update.siteName)
    append(update.round)
    append(delta)
    append(update.sampleCount)
    append(update.observationStatistics != nil)
    if let statistics = update.observationStatistics { append(statistics) }
    try appendJSON(result.record)
    // Last and optional, so a result from a site without advantage-scaled
    // weights keeps the earlier layout.
    if let factor = update.weightFactor { append(factor) }
  }

  mutating func append(_ delta: CompressedDelta) {
    switch delta {
    case .float64(let values):
      append(values)
    case .float16(let halves):
      append(halves.count)
      append(Self.packed(halves.map { UInt64($0.bitPattern) }, bitsEach: 16))
    case .int8(let blockSize, let scales, let values):
      append(blockSize)
      append(values.count)
      append(scales)
      append(Self.packed(values.map { UInt64(UInt8(bitPattern: $0)) }, bitsEach: 8))
    case .topK(let fraction, let count, let indices, let values):
      append(fraction)
      append(count)
      append(Self.packed(indices.map { UInt64($0) }, bitsEach: 32))
      append(values)
    }
  }

  /// Packs values of `bitsEach` bits into 64-bit words, lowest bits first.
  static func packed(_ values: [UInt64], bitsEach: Int) -> [UInt64] {
    let perWord = 64 / bitsEach
    var words = [UInt64](repeating: 0, count: (values.count + perWord - 1) / perWord)
    for (index, value) in values.enumerated() {
      words[index / perWord] |= value << (bitsEach * (index % perWord))
    }
    return words
  }
}

extension TransportReader {
  /// Reads a result written by `append(_:encodedDelta:)`, checks its
  /// compressed delta and expands it.
  /// - Parameter parameterCount: the model's parameter count; a
  ///   compressed delta of another length is rejected. Nil skips the
  ///   check.
  /// - Throws: `UpdateCompressionError` for an unknown encoding or a
  ///   malformed delta; `FederationTransportError` for truncated bytes.
  mutating func readEncodedResult(parameterCount: Int? = nil) throws -> (
    SiteTrainingResult, UpdateCompression
  ) {
    let code = try readInt()
    let siteName = try readString()
    let round = try readInt()
    let delta = try readCompressedDelta(code: code)
    try delta.validate(parameterCount: parameterCount)
    let sampleCount = try readInt()
    let statistics = try readBool() ? try readNormalizer() : nil
    var update = ModelUpdate(
      siteName: siteName, round: round, delta: delta.decoded(), sampleCount: sampleCount,
      observationStatistics: statistics)
    let record = try readJSON(SiteRoundRecord.self)
    update.weightFactor = isAtEnd ? nil : try readDouble()
    return (SiteTrainingResult(update: update, record: record), delta.compression)
  }

  /// Reads the delta part of a result in the encoding `code`. The word
  /// counts are checked here; `CompressedDelta.validate` checks the rest.
  mutating func readCompressedDelta(code: Int) throws -> CompressedDelta {
    func words(for count: Int, bitsEach: Int, scheme: String) throws -> [UInt64] {
      let perWord = 64 / bitsEach
      let words = try readUInt64s()
      guard count >= 0, words.count == (count + perWord - 1) / perWord else {
        throw UpdateCompressionError.malformed(
          scheme: scheme, detail: "\(count) values in \(words.count) 64-bit words")
      }
      return words
    }
    func unpacked(_ words: [UInt64], count: Int, bitsEach: Int) -> [UInt64] {
      let perWord = 64 / bitsEach
      let mask: UInt64 = bitsEach == 64 ? ~0 : (1 << bitsEach) - 1
      return (0..<count).map { (words[$0 / perWord] >> (bitsEach * ($0 % perWord))) & mask }
    }

    switch code {
    case UpdateCompression.none.wireCode:
      return .float64(try readDoubles())
    case UpdateCompression.float16.wireCode:
      let count = try readInt()
      let bits = unpacked(
        try words(for: count, bitsEach: 16, scheme: "float16"), count: count, bitsEach: 16)
      return .float16(bits.map { Float16(bitPattern: UInt16($0)) })
    case UpdateCompression.int8(blockSize: 1).wireCode:
      let blockSize = try readInt()
      let count = try readInt()
      let scales = try readFloats()
      let bits = unpacked(
        try words(for: count, bitsEach: 8, scheme: "int8"), count: count, bitsEach: 8)
      return .int8(
        blockSize: blockSize, scales: scales,
        values: bits.map { Int8(bitPattern: UInt8($0)) })
    case UpdateCompression.topK(fraction: 1).wireCode:
      let fraction = try readDouble()
      let count = try readInt()
      let indexWords = try readUInt64s()
      let values = try readFloats()
      guard indexWords.count == (values.count + 1) / 2 else {
        throw UpdateCompressionError.malformed(
          scheme: "topk",
          detail: "\(indexWords.count) index words for \(values.count) kept values")
      }
      let indices = unpacked(indexWords, count: values.count, bitsEach: 32)
      return .topK(
        fraction: fraction, count: count, indices: indices.map { UInt32($0) }, values: values)
    default:
      throw UpdateCompressionError.unknownEncoding(code)
    }
  }
}
