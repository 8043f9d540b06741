import TitrateSodium

/// The stages of a SecAgg+ round, in order.
public enum SecureAggregationStage: String, Codable, Sendable, Equatable, CaseIterable {
  /// Stage 0: sites send their two public keys.
  case advertiseKeys
  /// Stage 1: sites send encrypted Shamir shares to their neighbours.
  case shareKeys
  /// Stage 2: sites send masked inputs.
  case maskedInput
  /// Stage 3: sites send shares that let the server remove the masks.
  case unmasking
}

/// The round was aborted: too few sites or shares survived, so the server
/// outputs nothing for this round.
public struct SecureAggregationAbort: Error, Equatable, CustomStringConvertible {
  /// The stage after which the server stopped.
  public var stage: SecureAggregationStage
  /// The count that fell short, with its value and the threshold.
  public var reason: String

  public var description: String {
    "secure aggregation aborted after stage \(stage.rawValue): \(reason); the round reveals "
      + "nothing and is skipped"
  }
}

/// The server's result of a completed round.
public struct SecureAggregationResult: Sendable, Equatable {
  /// The sum of the survivors' input vectors modulo 2^k, word by word.
  public var sum: [UInt64]
  /// Protocol ids whose input is in the sum, ascending.
  public var includedSites: [UInt32]
  /// Sites that shared keys but sent no input, whose masking keys were
  /// rebuilt to cancel their pairwise masks.
  public var recoveredDroppedSites: [UInt32]
}

/// The server's side of a SecAgg+ round: it routes messages, tracks which
/// sites are still in the round, and removes the masks at the end. It is
/// honest-but-curious: it follows the protocol but may inspect everything
/// it receives, which is why each stage checks the threshold first.
public final class SecureAggregationServer {
  /// Round number.
  public let round: UInt64
  /// t.
  public let threshold: Int
  /// k of the modulus 2^k.
  public let modulusBits: Int
  /// Words per input.
  public let vectorLength: Int
  /// The neighbour graph of this round.
  public let graph: NeighbourGraph
  /// Names used for sites in abort reasons (a site's name in the
  /// federation); a site without one is named by its id.
  public var siteNames: [UInt32: String] = [:]
  private var advertised: [UInt32: AdvertiseKeysMessage] = [:]
  private var sharers: Set<UInt32> = []
  /// The masked inputs received in stage 2, by site: all that the
  /// server receives of an individual update.
  public private(set) var maskedInputs: [UInt32: [UInt64]] = [:]
  private var requested: UnmaskRequestMessage?
  /// Owners of the self-mask seed shares received in stage 3. Tests use
  /// it to check that the server never receives both secrets of one site.
  public private(set) var receivedSeedShareOwners: Set<UInt32> = []
  /// Owners of the masking-key shares received in stage 3.
  public private(set) var receivedKeyShareOwners: Set<UInt32> = []

  /// Creates the server for `participants` (protocol ids).
  /// - Precondition: the settings passed `SecureAggregationConfiguration`'s
  ///   checks.
  /// "site NAME" when the site has a name, "site ID" otherwise.
  func label(_ site: UInt32) -> String {
    siteNames[site].map { "site \($0)" } ?? "site \(site)"
  }

  public init(
    round: UInt64, participants: [UInt32], neighbourCount: Int, threshold: Int, modulusBits: Int,
    vectorLength: Int, randomness: inout RandomByteSource
  ) {
    precondition(threshold >= 2, "SecureAggregationServer: threshold \(threshold) is below 2")
    self.round = round
    self.threshold = threshold
    self.modulusBits = modulusBits
    self.vectorLength = vectorLength
    graph = NeighbourGraph(
      participants: participants, neighbourCount: neighbourCount, randomness: &randomness)
  }

  /// Returns each participant's setup message.
  public func setupMessages() -> [UInt32: [UInt8]] {
    graph.neighbours.mapValues { _ in [] }.reduce(into: [:]) { messages, entry in
      messages[entry.key] = RoundSetupMessage(
        round: round, site: entry.key, neighbours: graph.neighbours[entry.key]!,
        threshold: UInt32(threshold), modulusBits: UInt32(modulusBits),
        vectorLength: UInt32(vectorLength)
      ).encoded()
    }
  }

  private func abort(_ stage: SecureAggregationStage, _ reason: String) -> SecureAggregationAbort {
    SecureAggregationAbort(stage: stage, reason: reason)
  }

  /// Checks that every site in `sites` keeps at least t neighbours in
  /// `live`, and that `live` has at least t sites.
  private func checkNeighbourhoods(
    _ sites: Set<UInt32>, live: Set<UInt32>, stage: SecureAggregationStage, role: String
  ) throws(SecureAggregationAbort) {
    guard live.count >= threshold else {
      throw abort(stage, "\(live.count) sites remain, fewer than the threshold \(threshold)")
    }
    for site in sites.sorted() {
      let count = graph.neighbours[site, default: []].filter { live.contains($0) }.count
      if count < threshold {
        throw abort(
          stage,
          "\(label(site)) has \(count) \(role), fewer than the threshold \(threshold)")
      }
    }
  }

  /// After stage 0: keeps the sites whose keys arrived and decode, and
  /// returns each one's live neighbours' keys.
  /// - Throws: `SecureAggregationAbort` when fewer than t sites, or fewer
  ///   than t neighbours of some site, advertised keys.
  public func receiveAdvertisedKeys(
    _ messages: [UInt32: [UInt8]]
  ) throws(SecureAggregationAbort) -> [UInt32: [UInt8]] {
    for (site, bytes) in messages {
      guard let message = try? AdvertiseKeysMessage(decoding: bytes), message.site == site,
        graph.neighbours[site] != nil, message.encryptionPublicKey.count == 32,
        message.maskingPublicKey.count == 32
      else { continue }
      advertised[site] = message
    }
    let live = Set(advertised.keys)
    try checkNeighbourhoods(live, live: live, stage: .advertiseKeys, role: "neighbours with keys")
    var replies: [UInt32: [UInt8]] = [:]
    for site in live {
      let keys = graph.neighbours[site]!.compactMap { advertised[$0] }
      replies[site] = NeighbourKeysMessage(keys: keys).encoded()
    }
    return replies
  }

  /// After stage 1: keeps the sites whose boxes arrived, and forwards to
  /// each of them the boxes addressed to it.
  /// - Throws: `SecureAggregationAbort` when fewer than t sites shared
  ///   keys, or some site has fewer than t neighbours holding its shares.
  public func receiveEncryptedShares(
    _ messages: [UInt32: [UInt8]]
  ) throws(SecureAggregationAbort) -> [UInt32: [UInt8]] {
    var boxesByReceiver: [UInt32: [SealedShares]] = [:]
    for site in messages.keys.sorted() {
      guard advertised[site] != nil,
        let message = try? EncryptedSharesMessage(decoding: messages[site]!),
        message.site == site
      else { continue }
      let neighbours = Set(graph.neighbours[site]!)
      guard message.boxes.allSatisfy({ neighbours.contains($0.peer) }) else { continue }
      sharers.insert(site)
      for box in message.boxes {
        boxesByReceiver[box.peer, default: []].append(
          SealedShares(peer: site, ciphertext: box.ciphertext))
      }
    }
    try checkNeighbourhoods(sharers, live: sharers, stage: .shareKeys, role: "share holders")
    var replies: [UInt32: [UInt8]] = [:]
    for site in sharers {
      let boxes = (boxesByReceiver[site] ?? []).filter { sharers.contains($0.peer) }
      replies[site] = ForwardedSharesMessage(site: site, boxes: boxes).encoded()
    }
    return replies
  }

  /// After stage 2: keeps the masked inputs that arrived, and returns the
  /// unmask request for each survivor.
  /// - Throws: `SecureAggregationAbort` when fewer than t inputs arrived,
  ///   or some needed secret has fewer than t holders among the survivors.
  public func receiveMaskedInputs(
    _ messages: [UInt32: [UInt8]]
  ) throws(SecureAggregationAbort) -> [UInt32: [UInt8]] {
    for (site, bytes) in messages where sharers.contains(site) {
      guard let message = try? MaskedInputMessage(decoding: bytes), message.site == site,
        message.modulusBits == UInt32(modulusBits), message.words.count == vectorLength
      else { continue }
      maskedInputs[site] = message.words
    }
    let survivors = Set(maskedInputs.keys)
    try checkNeighbourhoods(
      sharers, live: survivors, stage: .maskedInput, role: "share holders left")
    let request = UnmaskRequestMessage(
      survivors: survivors.sorted(), dropped: sharers.subtracting(survivors).sorted())
    requested = request
    let bytes = request.encoded()
    return Dictionary(uniqueKeysWithValues: survivors.map { ($0, bytes) })
  }

  /// After stage 3: rebuilds b for each survivor and s_sk for each dropped
  /// site, removes every mask, and returns the sum.
  /// - Throws: `SecureAggregationAbort` when fewer than t shares of some
  ///   needed secret arrived, or a rebuilt key does not match the key its
  ///   site advertised.
  public func receiveUnmaskResponses(
    _ messages: [UInt32: [UInt8]]
  ) throws(SecureAggregationAbort) -> SecureAggregationResult {
    guard let requested else {
      preconditionFailure("receiveUnmaskResponses called before receiveMaskedInputs")
    }
    let survivors = Set(requested.survivors)
    let dropped = Set(requested.dropped)
    var seedShares: [UInt32: [KeyShare]] = [:]
    var keyShares: [UInt32: [KeyShare]] = [:]
    var responders = 0
    for site in messages.keys.sorted() where survivors.contains(site) {
      guard let message = try? UnmaskResponseMessage(decoding: messages[site]!),
        message.site == site
      else { continue }
      let holderPoint = UInt64(site) + 1
      let neighbours = Set(graph.neighbours[site]!)
      responders += 1
      for revealed in message.selfMaskSeedShares
      where survivors.contains(revealed.owner) && neighbours.contains(revealed.owner)
        && revealed.share.x == holderPoint
      {
        seedShares[revealed.owner, default: []].append(revealed.share)
        receivedSeedShareOwners.insert(revealed.owner)
      }
      for revealed in message.maskingKeyShares
      where dropped.contains(revealed.owner) && neighbours.contains(revealed.owner)
        && revealed.share.x == holderPoint
      {
        keyShares[revealed.owner, default: []].append(revealed.share)
        receivedKeyShareOwners.insert(revealed.owner)
      }
    }
    guard responders >= threshold else {
      throw abort(
        .unmasking,
        "\(responders) site\(responders == 1 ? "" : "s") sent a valid response, fewer than the threshold \(threshold)"
      )
    }

    let sharing = ShamirSecretSharing(field: .mersenne61, threshold: threshold)
    var sum = [UInt64](repeating: 0, count: vectorLength)
    for site in survivors.sorted() {
      for index in sum.indices { sum[index] &+= maskedInputs[site]![index] }
      let shares = seedShares[site] ?? []
      guard shares.count >= threshold,
        let seed = try? sharing.reconstructKey(shares)
      else {
        throw abort(
          .unmasking,
          "\(shares.count) shares of the self-mask seed of \(label(site)) arrived, fewer than the "
            + "threshold \(threshold)")
      }
      addMask(seed: seed, sign: -1, to: &sum)
    }
    for site in dropped.sorted() {
      let shares = keyShares[site] ?? []
      guard shares.count >= threshold,
        let secret = try? sharing.reconstructKey(shares),
        let keys = try? X25519KeyPair(secretKey: secret),
        keys.publicKey == advertised[site]!.maskingPublicKey
      else {
        throw abort(
          .unmasking,
          "the masking key of dropped \(label(site)) could not be rebuilt from \(shares.count) "
            + "shares (threshold \(threshold))")
      }
      // Each survivor u that masked against the dropped site v added
      // sign(u, v) PRG(s_uv); subtract exactly that term.
      for neighbour in graph.neighbours[site]! where survivors.contains(neighbour) {
        guard
          let seed = try? keys.sharedKey(
            peerPublicKey: advertised[neighbour]!.maskingPublicKey,
            context: pairwiseMaskContext(round: round))
        else {
          throw abort(.unmasking, "\(label(neighbour)) advertised an invalid masking key")
        }
        addMask(seed: seed, sign: neighbour < site ? -1 : 1, to: &sum)
      }
    }
    let modulusMask: UInt64 = (1 << UInt64(modulusBits)) - 1
    for index in sum.indices { sum[index] &= modulusMask }
    return SecureAggregationResult(
      sum: sum, includedSites: survivors.sorted(), recoveredDroppedSites: dropped.sorted())
  }
}
