import TitrateSodium

/// A site broke the protocol's rules or could not read a message; the site
/// stops taking part in the round.
public struct SecureAggregationSiteError: Error, Equatable, CustomStringConvertible {
  /// The site's protocol id.
  public var site: UInt32
  /// The problem.
  public var detail: String

  public var description: String { "secure aggregation site \(site): \(detail)" }

  /// Creates the error for site `site` with the problem `detail`.
  public init(site: UInt32, detail: String) {
    self.site = site
    self.detail = detail
  }
}

/// One site's side of a SecAgg+ round (Bonawitz et al. 2017, with the
/// neighbour graph of Bell et al. 2020). Call the stages in order; each
/// takes the server's message as bytes and returns the site's reply as
/// bytes.
///
/// The site has two X25519 key pairs: c for the keys that encrypt shares
/// to neighbours, s for the pairwise mask seeds. It also draws a
/// self-mask seed b. It Shamir-shares s_sk and b among its neighbours.
/// The masked input is
/// y = x + PRG(b) + sum_(v > u) PRG(s_uv) - sum_(v < u) PRG(s_uv) mod 2^k,
/// over the neighbours v that shared keys back.
public final class SecureAggregationSite {
  /// The site's protocol id.
  public let id: UInt32
  private let setup: RoundSetupMessage
  private var randomness: RandomByteSource
  private let encryptionKeys: X25519KeyPair
  private let maskingKeys: X25519KeyPair
  private let selfMaskSeed: [UInt8]
  private var neighbourKeys: [UInt32: AdvertiseKeysMessage] = [:]
  /// Shares received from each neighbour: (share of s_sk, share of b).
  private var heldShares: [UInt32: (maskingKey: KeyShare, selfMaskSeed: KeyShare)] = [:]
  private var sentMaskedInput = false

  /// Creates the site from the server's setup message.
  /// - Throws: `MessageDecodingError` for a malformed message.
  public init(setup bytes: [UInt8], randomness: RandomByteSource) throws(MessageDecodingError) {
    setup = try RoundSetupMessage(decoding: bytes)
    id = setup.site
    self.randomness = randomness
    encryptionKeys = X25519KeyPair(randomFrom: &self.randomness)
    maskingKeys = X25519KeyPair(randomFrom: &self.randomness)
    selfMaskSeed = self.randomness.bytes(count: 32)
  }

  private func failure(_ detail: String) -> SecureAggregationSiteError {
    SecureAggregationSiteError(site: id, detail: detail)
  }

  /// Stage 0: returns the two public keys.
  public func advertiseKeys() -> [UInt8] {
    AdvertiseKeysMessage(
      site: id, encryptionPublicKey: encryptionKeys.publicKey,
      maskingPublicKey: maskingKeys.publicKey
    ).encoded()
  }

  /// Stage 1: splits s_sk and b into shares, one per live neighbour, and
  /// seals each under the key shared with that neighbour.
  /// - Throws: `SecureAggregationSiteError` when fewer than t neighbours
  ///   remain or a neighbour is unknown, or a decoding or key error.
  public func shareKeys(neighbourKeys bytes: [UInt8]) throws -> [UInt8] {
    let message = try NeighbourKeysMessage(decoding: bytes)
    let allowed = Set(setup.neighbours)
    for entry in message.keys {
      guard allowed.contains(entry.site), neighbourKeys[entry.site] == nil else {
        throw failure("the server sent keys of site \(entry.site), which is not a neighbour")
      }
      neighbourKeys[entry.site] = entry
    }
    let threshold = Int(setup.threshold)
    guard neighbourKeys.count >= threshold else {
      throw failure(
        "\(neighbourKeys.count) neighbours advertised keys, fewer than the threshold \(threshold)")
    }

    let holders = neighbourKeys.keys.sorted()
    let sharing = ShamirSecretSharing(field: .mersenne61, threshold: threshold)
    let points = holders.map { UInt64($0) + 1 }
    let keyShares = sharing.splitKey(maskingKeys.secretKey, points: points, randomness: &randomness)
    let seedShares = sharing.splitKey(selfMaskSeed, points: points, randomness: &randomness)

    var boxes: [SealedShares] = []
    for (index, holder) in holders.enumerated() {
      var plaintext = ByteWriter()
      plaintext.append(id)
      plaintext.append(holder)
      plaintext.appendBlob(keyShares[index].encoded())
      plaintext.appendBlob(seedShares[index].encoded())
      let key = try encryptionKeys.sharedKey(
        peerPublicKey: neighbourKeys[holder]!.encryptionPublicKey,
        context: shareEncryptionContext(round: setup.round))
      let sealed = try AuthenticatedEncryption.seal(
        plaintext.bytes, key: key,
        associatedData: shareAssociatedData(round: setup.round, sender: id, receiver: holder),
        randomness: &randomness)
      boxes.append(SealedShares(peer: holder, ciphertext: sealed))
    }
    return EncryptedSharesMessage(site: id, boxes: boxes).encoded()
  }

  /// Stage 2: opens the shares addressed to this site and returns the
  /// masked input for `input` (words already below 2^k).
  /// - Throws: `SecureAggregationSiteError` for a box that fails to open,
  ///   comes from a non-neighbour, or names the wrong parties, or an input
  ///   of the wrong length.
  public func maskedInput(forwardedShares bytes: [UInt8], input: [UInt64]) throws -> [UInt8] {
    let message = try ForwardedSharesMessage(decoding: bytes)
    guard message.site == id else {
      throw failure("received shares addressed to site \(message.site)")
    }
    guard input.count == Int(setup.vectorLength) else {
      throw failure("input has \(input.count) words, the round expects \(setup.vectorLength)")
    }
    for box in message.boxes {
      guard let peer = neighbourKeys[box.peer], heldShares[box.peer] == nil else {
        throw failure("received a share box from site \(box.peer), which is not a live neighbour")
      }
      let key = try encryptionKeys.sharedKey(
        peerPublicKey: peer.encryptionPublicKey, context: shareEncryptionContext(round: setup.round))
      let plaintext = try AuthenticatedEncryption.open(
        box.ciphertext, key: key,
        associatedData: shareAssociatedData(round: setup.round, sender: box.peer, receiver: id))
      var reader = ByteReader(plaintext, message: "share box")
      let sender = try reader.readUInt32()
      let receiver = try reader.readUInt32()
      guard sender == box.peer, receiver == id else {
        throw failure("share box names sender \(sender) and receiver \(receiver)")
      }
      let maskingKeyShare = try KeyShare(decoding: reader.readBlob())
      let seedShare = try KeyShare(decoding: reader.readBlob())
      try reader.expectEnd()
      heldShares[box.peer] = (maskingKeyShare, seedShare)
    }

    let modulusMask: UInt64 = (1 << UInt64(setup.modulusBits)) - 1
    var words = input
    addMask(seed: selfMaskSeed, sign: 1, to: &words)
    for peer in heldShares.keys.sorted() {
      let seed = try maskingKeys.sharedKey(
        peerPublicKey: neighbourKeys[peer]!.maskingPublicKey,
        context: pairwiseMaskContext(round: setup.round))
      addMask(seed: seed, sign: peer > id ? 1 : -1, to: &words)
    }
    for index in words.indices { words[index] &= modulusMask }
    sentMaskedInput = true
    return MaskedInputMessage(site: id, modulusBits: setup.modulusBits, words: words).encoded()
  }

  /// Stage 3: returns shares of b for the listed survivors and of s_sk for
  /// the listed dropped sites, for the owners whose shares this site holds.
  /// - Throws: `SecureAggregationSiteError` when the lists overlap, when
  ///   this site is not listed as a survivor, or when fewer than t
  ///   survivors are listed. An honest site rejects all of these, because
  ///   each would let the server unmask an individual input.
  public func unmask(request bytes: [UInt8]) throws -> [UInt8] {
    let request = try UnmaskRequestMessage(decoding: bytes)
    let survivors = Set(request.survivors)
    let dropped = Set(request.dropped)
    guard survivors.isDisjoint(with: dropped) else {
      throw failure(
        "the server asked for both secrets of sites \(survivors.intersection(dropped).sorted())")
    }
    guard sentMaskedInput, survivors.contains(id) else {
      throw failure("the unmask request does not list this site as a survivor")
    }
    guard survivors.count >= Int(setup.threshold) else {
      throw failure(
        "the unmask request lists \(survivors.count) survivors, fewer than the threshold "
          + "\(setup.threshold)")
    }
    var seedShares: [RevealedShare] = []
    var keyShares: [RevealedShare] = []
    for owner in heldShares.keys.sorted() {
      if survivors.contains(owner) {
        seedShares.append(RevealedShare(owner: owner, share: heldShares[owner]!.selfMaskSeed))
      } else if dropped.contains(owner) {
        keyShares.append(RevealedShare(owner: owner, share: heldShares[owner]!.maskingKey))
      }
    }
    return UnmaskResponseMessage(
      site: id, selfMaskSeedShares: seedShares, maskingKeyShares: keyShares
    ).encoded()
  }
}

func shareEncryptionContext(round: UInt64) -> String { "titrate.secagg.share-key.round-\(round)" }
func pairwiseMaskContext(round: UInt64) -> String { "titrate.secagg.pairwise-mask.round-\(round)" }

func shareAssociatedData(round: UInt64, sender: UInt32, receiver: UInt32) -> [UInt8] {
  var writer = ByteWriter()
  writer.append(round)
  writer.append(sender)
  writer.append(receiver)
  return writer.bytes
}

/// Adds (sign 1) or subtracts (sign -1) the ChaCha20 expansion of `seed`
/// to `words`, wrapping modulo 2^64; the caller reduces modulo 2^k, which
/// divides 2^64, so the mask stays uniform modulo 2^k.
func addMask(seed: [UInt8], sign: Int, to words: inout [UInt64]) {
  let mask = ChaCha20Stream(key: seed).words(count: words.count)
  if sign > 0 {
    for index in words.indices { words[index] &+= mask[index] }
  } else {
    for index in words.indices { words[index] &-= mask[index] }
  }
}
