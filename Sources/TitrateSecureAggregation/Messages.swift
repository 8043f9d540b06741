/// The messages of one SecAgg+ round. Each is a value type that encodes to
/// bytes and decodes back, so that a network transport can carry it. The
/// in-process simulation passes every message through its bytes too.
///
/// Layout: a one-byte tag, then fields in little-endian order, byte
/// strings and lists with a 32-bit count in front.
enum MessageTag: UInt8 {
  case roundSetup = 1
  case advertiseKeys = 2
  case neighbourKeys = 3
  case encryptedShares = 4
  case forwardedShares = 5
  case maskedInput = 6
  case unmaskRequest = 7
  case unmaskResponse = 8
}

/// Largest number of sites one message may list; guards the decoder.
let maximumListedSites = 1 << 20

/// Server to site, before stage 0: the round's settings and the site's
/// neighbours in the SecAgg+ graph.
public struct RoundSetupMessage: Sendable, Equatable {
  /// Round number, bound into every key derivation and ciphertext.
  public var round: UInt64
  /// The receiving site's protocol id.
  public var site: UInt32
  /// Protocol ids of the site's neighbours, itself excluded.
  public var neighbours: [UInt32]
  /// t, the shares needed to rebuild a secret.
  public var threshold: UInt32
  /// k of the modulus 2^k of the masked sum.
  public var modulusBits: UInt32
  /// Words in the masked input vector.
  public var vectorLength: UInt32

  /// Returns the message's bytes.
  public func encoded() -> [UInt8] {
    var writer = ByteWriter()
    writer.append(MessageTag.roundSetup.rawValue)
    writer.append(round)
    writer.append(site)
    writer.append(UInt32(neighbours.count))
    for neighbour in neighbours { writer.append(neighbour) }
    writer.append(threshold)
    writer.append(modulusBits)
    writer.append(vectorLength)
    return writer.bytes
  }

  /// Decodes bytes written by `encoded()`.
  public init(decoding bytes: [UInt8]) throws(MessageDecodingError) {
    var reader = ByteReader(bytes, message: "round setup")
    try reader.expectTag(MessageTag.roundSetup.rawValue)
    round = try reader.readUInt64()
    site = try reader.readUInt32()
    let count = try reader.readCount(maximum: maximumListedSites, of: "neighbours")
    neighbours = []
    for _ in 0..<count { neighbours.append(try reader.readUInt32()) }
    threshold = try reader.readUInt32()
    modulusBits = try reader.readUInt32()
    vectorLength = try reader.readUInt32()
    try reader.expectEnd()
  }

  init(
    round: UInt64, site: UInt32, neighbours: [UInt32], threshold: UInt32, modulusBits: UInt32,
    vectorLength: UInt32
  ) {
    self.round = round
    self.site = site
    self.neighbours = neighbours
    self.threshold = threshold
    self.modulusBits = modulusBits
    self.vectorLength = vectorLength
  }
}

/// Stage 0, site to server: the site's two X25519 public keys.
public struct AdvertiseKeysMessage: Sendable, Equatable {
  /// Sender's protocol id.
  public var site: UInt32
  /// Public key for the pairwise keys that encrypt Shamir shares (c_pk).
  public var encryptionPublicKey: [UInt8]
  /// Public key for the pairwise mask seeds (s_pk).
  public var maskingPublicKey: [UInt8]

  /// Returns the message's bytes.
  public func encoded() -> [UInt8] {
    var writer = ByteWriter()
    writer.append(MessageTag.advertiseKeys.rawValue)
    writer.append(site)
    writer.appendBlob(encryptionPublicKey)
    writer.appendBlob(maskingPublicKey)
    return writer.bytes
  }

  /// Decodes bytes written by `encoded()`.
  public init(decoding bytes: [UInt8]) throws(MessageDecodingError) {
    var reader = ByteReader(bytes, message: "advertised keys")
    try reader.expectTag(MessageTag.advertiseKeys.rawValue)
    site = try reader.readUInt32()
    encryptionPublicKey = try reader.readBlob(maximumCount: 32)
    maskingPublicKey = try reader.readBlob(maximumCount: 32)
    try reader.expectEnd()
  }

  init(site: UInt32, encryptionPublicKey: [UInt8], maskingPublicKey: [UInt8]) {
    self.site = site
    self.encryptionPublicKey = encryptionPublicKey
    self.maskingPublicKey = maskingPublicKey
  }
}

/// Server to site, after stage 0: the advertised keys of the site's
/// neighbours that are still in the round.
public struct NeighbourKeysMessage: Sendable, Equatable {
  /// One entry per live neighbour.
  public var keys: [AdvertiseKeysMessage]

  /// Returns the message's bytes.
  public func encoded() -> [UInt8] {
    var writer = ByteWriter()
    writer.append(MessageTag.neighbourKeys.rawValue)
    writer.append(UInt32(keys.count))
    for entry in keys { writer.appendBlob(entry.encoded()) }
    return writer.bytes
  }

  /// Decodes bytes written by `encoded()`.
  public init(decoding bytes: [UInt8]) throws(MessageDecodingError) {
    var reader = ByteReader(bytes, message: "neighbour keys")
    try reader.expectTag(MessageTag.neighbourKeys.rawValue)
    let count = try reader.readCount(maximum: maximumListedSites, of: "neighbour keys")
    keys = []
    for _ in 0..<count { keys.append(try AdvertiseKeysMessage(decoding: reader.readBlob())) }
    try reader.expectEnd()
  }

  init(keys: [AdvertiseKeysMessage]) { self.keys = keys }
}

/// One sealed box of shares, addressed from one site to another.
public struct SealedShares: Sendable, Equatable {
  /// The other party: the receiver in `EncryptedSharesMessage`, the sender
  /// in `ForwardedSharesMessage`.
  public var peer: UInt32
  /// XChaCha20-Poly1305 ciphertext of sender, receiver, the share of the
  /// masking secret key and the share of the self-mask seed.
  public var ciphertext: [UInt8]
}

/// Stage 1, site to server: shares for each neighbour, each sealed under
/// the key the two sites share, so the server only routes them.
public struct EncryptedSharesMessage: Sendable, Equatable {
  /// Sender's protocol id.
  public var site: UInt32
  /// One box per receiving neighbour.
  public var boxes: [SealedShares]

  /// Returns the message's bytes.
  public func encoded() -> [UInt8] {
    encodeBoxes(tag: .encryptedShares, site: site, boxes: boxes)
  }

  /// Decodes bytes written by `encoded()`.
  public init(decoding bytes: [UInt8]) throws(MessageDecodingError) {
    (site, boxes) = try decodeBoxes(bytes, tag: .encryptedShares, message: "encrypted shares")
  }

  init(site: UInt32, boxes: [SealedShares]) {
    self.site = site
    self.boxes = boxes
  }
}

/// Server to site, after stage 1: the boxes addressed to the site. The set
/// of senders is also the set of neighbours the site masks with.
public struct ForwardedSharesMessage: Sendable, Equatable {
  /// Receiver's protocol id.
  public var site: UInt32
  /// One box per sending neighbour; `peer` is the sender.
  public var boxes: [SealedShares]

  /// Returns the message's bytes.
  public func encoded() -> [UInt8] {
    encodeBoxes(tag: .forwardedShares, site: site, boxes: boxes)
  }

  /// Decodes bytes written by `encoded()`.
  public init(decoding bytes: [UInt8]) throws(MessageDecodingError) {
    (site, boxes) = try decodeBoxes(bytes, tag: .forwardedShares, message: "forwarded shares")
  }

  init(site: UInt32, boxes: [SealedShares]) {
    self.site = site
    self.boxes = boxes
  }
}

private func encodeBoxes(tag: MessageTag, site: UInt32, boxes: [SealedShares]) -> [UInt8] {
  var writer = ByteWriter()
  writer.append(tag.rawValue)
  writer.append(site)
  writer.append(UInt32(boxes.count))
  for box in boxes {
    writer.append(box.peer)
    writer.appendBlob(box.ciphertext)
  }
  return writer.bytes
}

private func decodeBoxes(
  _ bytes: [UInt8], tag: MessageTag, message: String
) throws(MessageDecodingError) -> (UInt32, [SealedShares]) {
  var reader = ByteReader(bytes, message: message)
  try reader.expectTag(tag.rawValue)
  let site = try reader.readUInt32()
  let count = try reader.readCount(maximum: maximumListedSites, of: "boxes")
  var boxes: [SealedShares] = []
  for _ in 0..<count {
    let peer = try reader.readUInt32()
    boxes.append(SealedShares(peer: peer, ciphertext: try reader.readBlob(maximumCount: 4096)))
  }
  try reader.expectEnd()
  return (site, boxes)
}
