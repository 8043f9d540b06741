import TitrateHashing

/// The kinds of message between the aggregator and a site over the network.
public enum NetworkMessageType: UInt8, Sendable, CaseIterable {
  /// Site to aggregator on start: the site's environment SHA-256 and
  /// program version.
  case hello = 1
  /// Aggregator to site: the run's configuration, environment and layout.
  case welcome = 2
  /// Aggregator to site: the site is not admitted to this run; the payload
  /// is the reason.
  case reject = 3
  /// Site to aggregator: the site built the run and waits for rounds.
  case ready = 4
  /// Aggregator to site: one round's training request.
  case train = 5
  /// Site to aggregator, every few seconds: the site is alive; the header
  /// round is the round it is training, 0 when idle.
  case heartbeat = 6
  /// Site to aggregator: the update and report of one round.
  case result = 7
  /// Aggregator to site: the run is over; the site exits.
  case stop = 8
  /// Site to aggregator: the site leaves the run; the payload is the reason.
  case leave = 9
  /// Aggregator to site, secure aggregation stage 0: the round setup
  /// (`RoundSetupMessage`: round, neighbours, threshold, modulus).
  case secureSetup = 10
  /// Site to aggregator, stage 0: the site's two public keys.
  case secureAdvertisedKeys = 11
  /// Aggregator to site, stage 1: the public keys of the site's neighbours.
  case secureNeighbourKeys = 12
  /// Site to aggregator, stage 1: Shamir shares for each neighbour, each
  /// sealed under the key the two sites share; the aggregator only routes
  /// them.
  case secureEncryptedShares = 13
  /// Aggregator to site, stage 2: the sealed shares addressed to the site.
  case secureForwardedShares = 14
  /// Site to aggregator, stage 2: the masked input. An empty payload means
  /// the site has no input this round.
  case secureMaskedInput = 15
  /// Aggregator to site, stage 3: which sites survived and which dropped.
  case secureUnmaskRequest = 16
  /// Site to aggregator, stage 3: the shares that remove the masks.
  case secureUnmaskResponse = 17
}

/// One message in the versioned network format: a fixed header followed by
/// the payload.
///
/// Layout, all integers little-endian:
///
/// | bytes | field |
/// |---|---|
/// | 4 | magic `TTRN` |
/// | 2 | format version (`NetworkEnvelope.formatVersion`) |
/// | 1 | message type (`NetworkMessageType`) |
/// | 1 | reserved, 0 |
/// | 16 | run id (`NetworkEnvelope.runIdentifier`) |
/// | 8 | round, signed |
/// | 2 | site name length n, at most 64 |
/// | n | site name, UTF-8 |
/// | 8 | payload length p |
/// | 32 | SHA-256 of the header bytes before it and of the payload |
/// | p | payload |
///
/// The payload reuses the site request and result encoding of the MPI
/// transport: raw little-endian arrays, so every Float and Double arrives
/// bit for bit. CURVE already authenticates and encrypts each message. The
/// digest catches a frame altered by a faulty peer or by a bug between
/// encoding and sending, and lets the audit log name such a frame. It
/// covers the header too, so a flipped message type or round is caught.
public struct NetworkEnvelope: Sendable, Equatable {
  /// The format version this build writes and the only one it reads.
  /// Version 2 added the secure aggregation messages (types 10-17).
  public static let formatVersion: UInt16 = 2
  /// Bytes of the header before the site name.
  static let fixedPrefixBytes = 34
  /// Bytes of the header after the site name (payload length and digest).
  static let fixedSuffixBytes = 40
  /// Maximum site name length in bytes.
  public static let maximumSiteNameBytes = 64
  static let magic: [UInt8] = Array("TTRN".utf8)

  /// The message type.
  public var type: NetworkMessageType
  /// The run it belongs to (16 bytes, all zero in a site's `hello`).
  public var runIdentifier: [UInt8]
  /// The round it concerns, 0 outside rounds.
  public var round: Int
  /// The site that sends it or that it is addressed to.
  public var siteName: String
  /// The message body.
  public var payload: [UInt8]

  public init(
    type: NetworkMessageType, runIdentifier: [UInt8], round: Int, siteName: String,
    payload: [UInt8] = []
  ) {
    precondition(runIdentifier.count == 16, "a run id has 16 bytes, got \(runIdentifier.count)")
    precondition(
      siteName.utf8.count <= Self.maximumSiteNameBytes,
      "site name '\(siteName)' is longer than \(Self.maximumSiteNameBytes) bytes")
    self.type = type
    self.runIdentifier = runIdentifier
    self.round = round
    self.siteName = siteName
    self.payload = payload
  }

  /// Computes the run id of a configuration: the first 16 bytes of the SHA-256 of
  /// its canonical JSON and the environment's SHA-256. A resumed run keeps
  /// its id, because its configuration comes from the checkpoint.
  public static func runIdentifier(
    configurationJSON: [UInt8], environmentSHA256: String
  ) -> [UInt8] {
    var hash = SHA256()
    hash.update(configurationJSON)
    hash.update(environmentSHA256)
    return Array(hash.finalize().prefix(16))
  }

  private static func digest(header: ArraySlice<UInt8>, payload: ArraySlice<UInt8>) -> [UInt8] {
    var hash = SHA256()
    hash.update(Array(header))
    hash.update(Array(payload))
    return hash.finalize()
  }

  /// The 16 zero bytes a site sends as run id before it has joined a run.
  public static let unknownRun = [UInt8](repeating: 0, count: 16)

  /// Encodes the header and the payload as one frame.
  public func encoded() -> [UInt8] {
    var bytes = Self.magic
    appendLittleEndian(UInt64(Self.formatVersion), byteCount: 2, to: &bytes)
    bytes.append(type.rawValue)
    bytes.append(0)
    bytes += runIdentifier
    appendLittleEndian(UInt64(bitPattern: Int64(round)), byteCount: 8, to: &bytes)
    let name = Array(siteName.utf8)
    appendLittleEndian(UInt64(name.count), byteCount: 2, to: &bytes)
    bytes += name
    appendLittleEndian(UInt64(payload.count), byteCount: 8, to: &bytes)
    bytes += Self.digest(header: bytes[...], payload: payload[...])
    bytes += payload
    return bytes
  }

  /// Decodes one frame, checking every header field and the digest.
  /// - Parameter maximumFrameBytes: frames longer than this are rejected
  ///   before any other check.
  /// - Throws: `NetworkFrameError` naming the first problem; never traps on
  ///   any input.
  public init(decoding bytes: [UInt8], maximumFrameBytes: Int) throws(NetworkFrameError) {
    // Size and fixed fields first, so that no index below runs past the end.
    guard bytes.count <= maximumFrameBytes else {
      throw .oversized(byteCount: bytes.count, limit: maximumFrameBytes)
    }
    guard bytes.count >= Self.fixedPrefixBytes + Self.fixedSuffixBytes else {
      throw .truncated(
        detail: "\(bytes.count) bytes, shorter than the smallest header of "
          + "\(Self.fixedPrefixBytes + Self.fixedSuffixBytes) bytes")
    }
    guard Array(bytes[0..<4]) == Self.magic else { throw .badMagic }
    let version = UInt16(readLittleEndian(bytes, at: 4, byteCount: 2))
    guard version == Self.formatVersion else { throw .unsupportedVersion(version) }
    guard let type = NetworkMessageType(rawValue: bytes[6]) else {
      throw .unknownMessageType(bytes[6])
    }
    guard bytes[7] == 0 else { throw .truncated(detail: "reserved header byte is \(bytes[7]), not 0") }

    // Variable-length site name, then payload length, digest and payload.
    let runIdentifier = Array(bytes[8..<24])
    let round = Int(Int64(bitPattern: readLittleEndian(bytes, at: 24, byteCount: 8)))
    let nameLength = Int(readLittleEndian(bytes, at: 32, byteCount: 2))
    guard nameLength <= Self.maximumSiteNameBytes else {
      throw .invalidSiteName(detail: "\(nameLength) bytes, above \(Self.maximumSiteNameBytes)")
    }
    let suffixStart = Self.fixedPrefixBytes + nameLength
    guard bytes.count >= suffixStart + Self.fixedSuffixBytes else {
      throw .truncated(detail: "the header ends after \(bytes.count) bytes")
    }
    guard let siteName = String(validating: bytes[Self.fixedPrefixBytes..<suffixStart], as: UTF8.self)
    else {
      throw .invalidSiteName(detail: "not valid UTF-8")
    }
    let declaredLength = readLittleEndian(bytes, at: suffixStart, byteCount: 8)
    let payloadStart = suffixStart + Self.fixedSuffixBytes
    let actualLength = bytes.count - payloadStart
    guard declaredLength == UInt64(actualLength) else {
      throw .truncated(
        detail: "the header declares a \(declaredLength)-byte payload but \(actualLength) bytes follow")
    }
    let digest = Self.digest(header: bytes[..<(suffixStart + 8)], payload: bytes[payloadStart...])
    guard digest == Array(bytes[(suffixStart + 8)..<payloadStart]) else {
      throw .digestMismatch
    }
    let payload = Array(bytes[payloadStart...])
    self.init(
      type: type, runIdentifier: runIdentifier, round: round, siteName: siteName,
      payload: payload)
  }
}

/// The reason a received frame was rejected. Each case names the value found, what
/// was expected and what to check.
public enum NetworkFrameError: Error, Equatable, Sendable, CustomStringConvertible {
  case oversized(byteCount: Int, limit: Int)
  case truncated(detail: String)
  case badMagic
  case unsupportedVersion(UInt16)
  case unknownMessageType(UInt8)
  case invalidSiteName(detail: String)
  case digestMismatch

  public var description: String {
    switch self {
    case .oversized(let count, let limit):
      return "frame of \(count) bytes exceeds the limit of \(limit) bytes; raise "
        + "--max-frame-bytes on both ends if the model is this large"
    case .truncated(let detail):
      return "truncated frame: \(detail)"
    case .badMagic:
      return "frame does not start with the magic 'TTRN'; the peer is not a titrate process"
    case .unsupportedVersion(let version):
      return "frame format version \(version) is not supported (this build reads version "
        + "\(NetworkEnvelope.formatVersion)); run the same titrate release on both ends"
    case .unknownMessageType(let code):
      return "unknown message type \(code) (known: 1-\(NetworkMessageType.allCases.count)); "
        + "run the same titrate release on both ends"
    case .invalidSiteName(let detail):
      return "invalid site name in the header: \(detail)"
    case .digestMismatch:
      return "the frame's SHA-256 digest does not match its header and payload; the frame was "
        + "altered"
    }
  }
}

private func appendLittleEndian(_ value: UInt64, byteCount: Int, to bytes: inout [UInt8]) {
  for index in 0..<byteCount { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
}

private func readLittleEndian(_ bytes: [UInt8], at offset: Int, byteCount: Int) -> UInt64 {
  var value: UInt64 = 0
  for index in 0..<byteCount { value |= UInt64(bytes[offset + index]) << (8 * index) }
  return value
}
