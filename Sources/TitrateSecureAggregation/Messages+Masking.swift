/// Stage 2, site to server: the masked input
/// y = x + PRG(b) + sum over neighbours of +-PRG(s_uv) mod 2^k.
public struct MaskedInputMessage: Sendable, Equatable {
  /// Sender's protocol id.
  public var site: UInt32
  /// k of the modulus 2^k; each word is sent in ceil(k / 8) bytes.
  public var modulusBits: UInt32
  /// The masked words, each in [0, 2^k).
  public var words: [UInt64]

  /// Returns the message's bytes.
  public func encoded() -> [UInt8] {
    var writer = ByteWriter()
    writer.append(MessageTag.maskedInput.rawValue)
    writer.append(site)
    writer.append(modulusBits)
    writer.append(UInt32(words.count))
    let width = (Int(modulusBits) + 7) / 8
    for word in words { writer.appendPacked(word, width: width) }
    return writer.bytes
  }

  /// Decodes bytes written by `encoded()`.
  public init(decoding bytes: [UInt8]) throws(MessageDecodingError) {
    var reader = ByteReader(bytes, message: "masked input")
    try reader.expectTag(MessageTag.maskedInput.rawValue)
    site = try reader.readUInt32()
    modulusBits = try reader.readUInt32()
    guard (1...64).contains(modulusBits) else {
      throw MessageDecodingError(
        message: "masked input", detail: "modulus bits \(modulusBits) is outside 1...64")
    }
    let count = try reader.readCount(maximum: 1 << 28, of: "words")
    let width = (Int(modulusBits) + 7) / 8
    words = []
    words.reserveCapacity(count)
    for _ in 0..<count { words.append(try reader.readPacked(width: width)) }
    try reader.expectEnd()
  }

  init(site: UInt32, modulusBits: UInt32, words: [UInt64]) {
    self.site = site
    self.modulusBits = modulusBits
    self.words = words
  }
}

/// Stage 3, server to site: which sites sent a masked input (their
/// self-mask seeds b are needed) and which dropped after sharing keys
/// (their masking secret keys are needed). The two lists are disjoint.
public struct UnmaskRequestMessage: Sendable, Equatable {
  /// Sites whose masked input arrived.
  public var survivors: [UInt32]
  /// Sites that shared keys but sent no masked input.
  public var dropped: [UInt32]

  /// Returns the message's bytes.
  public func encoded() -> [UInt8] {
    var writer = ByteWriter()
    writer.append(MessageTag.unmaskRequest.rawValue)
    for list in [survivors, dropped] {
      writer.append(UInt32(list.count))
      for site in list { writer.append(site) }
    }
    return writer.bytes
  }

  /// Decodes bytes written by `encoded()`.
  public init(decoding bytes: [UInt8]) throws(MessageDecodingError) {
    var reader = ByteReader(bytes, message: "unmask request")
    try reader.expectTag(MessageTag.unmaskRequest.rawValue)
    var lists: [[UInt32]] = []
    for _ in 0..<2 {
      let count = try reader.readCount(maximum: maximumListedSites, of: "sites")
      var list: [UInt32] = []
      for _ in 0..<count { list.append(try reader.readUInt32()) }
      lists.append(list)
    }
    survivors = lists[0]
    dropped = lists[1]
    try reader.expectEnd()
  }

  init(survivors: [UInt32], dropped: [UInt32]) {
    self.survivors = survivors
    self.dropped = dropped
  }
}

/// One revealed share, with the site whose secret it belongs to.
public struct RevealedShare: Sendable, Equatable {
  /// The site whose secret the share belongs to.
  public var owner: UInt32
  /// The share.
  public var share: KeyShare
}

/// Stage 3, site to server: shares of self-mask seeds for survivors and
/// of masking secret keys for dropped sites; never both for one owner.
public struct UnmaskResponseMessage: Sendable, Equatable {
  /// Sender's protocol id.
  public var site: UInt32
  /// Shares of b_u for owners u that survived.
  public var selfMaskSeedShares: [RevealedShare]
  /// Shares of s_sk_v for owners v that dropped.
  public var maskingKeyShares: [RevealedShare]

  /// Returns the message's bytes.
  public func encoded() -> [UInt8] {
    var writer = ByteWriter()
    writer.append(MessageTag.unmaskResponse.rawValue)
    writer.append(site)
    for list in [selfMaskSeedShares, maskingKeyShares] {
      writer.append(UInt32(list.count))
      for revealed in list {
        writer.append(revealed.owner)
        writer.appendBlob(revealed.share.encoded())
      }
    }
    return writer.bytes
  }

  /// Decodes bytes written by `encoded()`.
  public init(decoding bytes: [UInt8]) throws(MessageDecodingError) {
    var reader = ByteReader(bytes, message: "unmask response")
    try reader.expectTag(MessageTag.unmaskResponse.rawValue)
    site = try reader.readUInt32()
    var lists: [[RevealedShare]] = []
    for _ in 0..<2 {
      let count = try reader.readCount(maximum: maximumListedSites, of: "shares")
      var list: [RevealedShare] = []
      for _ in 0..<count {
        let owner = try reader.readUInt32()
        let share = try KeyShare(
          decoding: reader.readBlob(maximumCount: KeyShare.encodedByteCount))
        list.append(RevealedShare(owner: owner, share: share))
      }
      lists.append(list)
    }
    selfMaskSeedShares = lists[0]
    maskingKeyShares = lists[1]
    try reader.expectEnd()
  }

  init(site: UInt32, selfMaskSeedShares: [RevealedShare], maskingKeyShares: [RevealedShare]) {
    self.site = site
    self.selfMaskSeedShares = selfMaskSeedShares
    self.maskingKeyShares = maskingKeyShares
  }
}
