import Testing
import TitrateFederation

/// The versioned frame format: round trips, and every kind of bad frame
/// is rejected with a reason instead of trapping.
struct NetworkEnvelopeTests {
  static let run = [UInt8](1...16)
  static let limit = 1 << 20

  static func sample(payload: [UInt8] = [1, 2, 3, 4, 5]) -> NetworkEnvelope {
    NetworkEnvelope(
      type: .result, runIdentifier: run, round: 7, siteName: "icu_arc", payload: payload)
  }

  @Test func roundTripsEveryField() throws {
    let envelope = Self.sample()
    let decoded = try NetworkEnvelope(decoding: envelope.encoded(), maximumFrameBytes: Self.limit)
    #expect(decoded == envelope)
  }

  @Test func headerSizeMatchesLayout() {
    // 34 fixed bytes, 7 of site name, 8 of payload length, 32 of digest.
    #expect(Self.sample(payload: []).encoded().count == 34 + 7 + 40)
  }

  @Test(arguments: [UInt8(1), 3])
  func rejectsUnknownVersion(_ version: UInt8) {
    var bytes = Self.sample().encoded()
    bytes[4] = version
    #expect(throws: NetworkFrameError.unsupportedVersion(UInt16(version))) {
      try NetworkEnvelope(decoding: bytes, maximumFrameBytes: Self.limit)
    }
  }

  @Test func rejectsUnknownMessageType() {
    var bytes = Self.sample().encoded()
    bytes[6] = 200
    #expect(throws: NetworkFrameError.unknownMessageType(200)) {
      try NetworkEnvelope(decoding: bytes, maximumFrameBytes: Self.limit)
    }
  }

  @Test func rejectsOversizedFrame() {
    let bytes = Self.sample(payload: [UInt8](repeating: 9, count: 2048)).encoded()
    #expect(throws: NetworkFrameError.oversized(byteCount: bytes.count, limit: 1024)) {
      try NetworkEnvelope(decoding: bytes, maximumFrameBytes: 1024)
    }
  }

  @Test func rejectsEveryTruncation() {
    let bytes = Self.sample().encoded()
    for length in 0..<bytes.count {
      #expect(throws: NetworkFrameError.self, "length \(length)") {
        try NetworkEnvelope(decoding: Array(bytes.prefix(length)), maximumFrameBytes: Self.limit)
      }
    }
  }

  @Test func rejectsAlteredPayload() {
    var bytes = Self.sample().encoded()
    bytes[bytes.count - 1] ^= 0x01
    #expect(throws: NetworkFrameError.digestMismatch) {
      try NetworkEnvelope(decoding: bytes, maximumFrameBytes: Self.limit)
    }
  }

  /// Every single-bit flip anywhere in the frame is caught by a header
  /// check or by the digest, which covers the header too.
  @Test func rejectsEveryBitFlip() {
    let bytes = Self.sample().encoded()
    var accepted: [Int] = []
    for index in bytes.indices {
      for bit in 0..<8 {
        var mutated = bytes
        mutated[index] ^= UInt8(1 << bit)
        if (try? NetworkEnvelope(decoding: mutated, maximumFrameBytes: Self.limit)) != nil {
          accepted.append(index)
        }
      }
    }
    #expect(accepted == [])
  }

  /// Random bytes, and random bytes behind a valid magic and version,
  /// never trap (a seeded linear congruential generator keeps it
  /// repeatable).
  @Test func randomBytesNeverTrap() {
    var state: UInt64 = 0x5EED
    func next() -> UInt8 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return UInt8(truncatingIfNeeded: state >> 33)
    }
    var decodedCount = 0
    for trial in 0..<3000 {
      let length = Int(next()) + Int(next()) % 4 * 64
      var bytes = (0..<length).map { _ in next() }
      if trial % 2 == 0 && bytes.count >= 8 {
        bytes.replaceSubrange(0..<6, with: Array("TTRN".utf8) + [1, 0])
      }
      if (try? NetworkEnvelope(decoding: bytes, maximumFrameBytes: Self.limit)) != nil {
        decodedCount += 1
      }
    }
    #expect(decodedCount == 0)
  }

  @Test func runIdentifierDependsOnConfigurationAndEnvironment() {
    let first = NetworkEnvelope.runIdentifier(configurationJSON: [1, 2], environmentSHA256: "ab")
    let second = NetworkEnvelope.runIdentifier(configurationJSON: [1, 3], environmentSHA256: "ab")
    let third = NetworkEnvelope.runIdentifier(configurationJSON: [1, 2], environmentSHA256: "ac")
    #expect(first.count == 16)
    #expect(first != second)
    #expect(first != third)
  }
}
