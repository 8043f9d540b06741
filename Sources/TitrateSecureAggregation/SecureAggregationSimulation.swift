import TitrateSodium

/// A site leaving a simulated round at a given stage.
public enum SimulatedDropStage: String, Codable, Sendable, Equatable, CaseIterable {
  /// Sends its keys, then nothing more: not in the sum, no secret rebuilt.
  case afterAdvertisingKeys
  /// Shares keys, then sends no masked input: not in the sum, and its
  /// masking key is rebuilt to cancel its neighbours' pairwise masks.
  case afterSharingKeys
  /// Sends its masked input, then never receives the unmask request: in
  /// the sum, and its neighbours reveal the shares of its self-mask seed.
  case afterMaskedInput
  /// Its unmask response is cut off in transit and fails to decode. Its
  /// input is in the sum, as with `afterMaskedInput`, but the server
  /// receives a broken response.
  case duringUnmasking

  /// Whether the site's input reaches the sum.
  public var inputIncluded: Bool { self == .afterMaskedInput || self == .duringUnmasking }
}

/// Bytes that crossed the simulated network in one round, both ways.
public struct SecureAggregationTraffic: Sendable, Equatable {
  /// Bytes from the server to sites.
  public var serverToSitesBytes = 0
  /// Bytes from sites to the server.
  public var sitesToServerBytes = 0
}

/// The outcome of one simulated round.
public struct SecureAggregationOutcome: Sendable {
  /// The unmasked sum, or the reason the round was aborted.
  public var result: Result<SecureAggregationResult, SecureAggregationAbort>
  /// Message bytes exchanged.
  public var traffic: SecureAggregationTraffic
  /// The masked inputs the server received, by site.
  public var serverView: [UInt32: [UInt64]]
  /// Sites that stopped on their own because a server message broke the
  /// protocol's rules, with the reason; empty for an honest server.
  public var siteErrors: [UInt32: String]
}

/// Runs a whole SecAgg+ round in one process: one server object, one site
/// object per participant, and every message passed as bytes.
///
/// `inputs` maps each participant to its input words (below 2^k), or to
/// nil for a site that has nothing to send (it then drops after sharing
/// keys). `drops` makes sites leave at the given stage. Keys and shares
/// come from `randomness`, the ring order of the neighbour graph from
/// `graphRandomness` when given (a trainer passes a seeded one so that
/// which rounds abort does not change between runs).
public func simulateSecureAggregationRound(
  round: UInt64, inputs: [UInt32: [UInt64]?], vectorLength: Int,
  configuration: SecureAggregationConfiguration, drops: [UInt32: SimulatedDropStage] = [:],
  randomness: RandomByteSource, graphRandomness: RandomByteSource? = nil,
  siteNames: [UInt32: String] = [:]
) -> SecureAggregationOutcome {
  precondition(
    inputs.values.allSatisfy { $0 == nil || $0!.count == vectorLength },
    "simulateSecureAggregationRound: every input needs \(vectorLength) words")
  var traffic = SecureAggregationTraffic()
  var siteErrors: [UInt32: String] = [:]
  let participants = inputs.keys.sorted()
  var serverRandomness = graphRandomness ?? randomness.derived(stream: 0)
  let n = participants.count
  let server = SecureAggregationServer(
    round: round, participants: participants,
    neighbourCount: configuration.effectiveNeighbourCount(participantCount: n),
    threshold: configuration.effectiveThreshold(participantCount: n),
    modulusBits: configuration.modulusBits, vectorLength: vectorLength,
    randomness: &serverRandomness)
  server.siteNames = siteNames

  func deliver(_ messages: [UInt32: [UInt8]]) -> [UInt32: [UInt8]] {
    traffic.serverToSitesBytes += messages.values.reduce(0) { $0 + $1.count }
    return messages
  }
  func collect(_ replies: [UInt32: [UInt8]]) -> [UInt32: [UInt8]] {
    traffic.sitesToServerBytes += replies.values.reduce(0) { $0 + $1.count }
    return replies
  }
  func outcome(
    _ result: Result<SecureAggregationResult, SecureAggregationAbort>
  ) -> SecureAggregationOutcome {
    SecureAggregationOutcome(
      result: result, traffic: traffic, serverView: server.maskedInputs, siteErrors: siteErrors)
  }

  // Setup and stage 0.
  var sites: [UInt32: SecureAggregationSite] = [:]
  for (id, bytes) in deliver(server.setupMessages()) {
    // Each site draws its own keys; a seeded source gets a stream per site.
    sites[id] = try? SecureAggregationSite(
      setup: bytes, randomness: randomness.derived(stream: UInt64(id) + 1))
  }
  var replies: [UInt32: [UInt8]] = [:]
  for (id, site) in sites { replies[id] = site.advertiseKeys() }

  // Each later stage: the server processes the previous replies, then
  // every site that has not dropped replies to the server.
  do throws(SecureAggregationAbort) {
    let directories = deliver(try server.receiveAdvertisedKeys(collect(replies)))
    replies = [:]
    for (id, bytes) in directories where drops[id] != .afterAdvertisingKeys {
      do { replies[id] = try sites[id]!.shareKeys(neighbourKeys: bytes) } catch {
        siteErrors[id] = "\(error)"
      }
    }

    let forwarded = deliver(try server.receiveEncryptedShares(collect(replies)))
    replies = [:]
    for (id, bytes) in forwarded where drops[id] != .afterSharingKeys {
      guard let input = inputs[id] ?? nil else { continue }
      do { replies[id] = try sites[id]!.maskedInput(forwardedShares: bytes, input: input) } catch {
        siteErrors[id] = "\(error)"
      }
    }

    let requests = deliver(try server.receiveMaskedInputs(collect(replies)))
    replies = [:]
    for (id, bytes) in requests where drops[id] != .afterMaskedInput {
      do {
        let response = try sites[id]!.unmask(request: bytes)
        // A cut connection delivers only the first half of the reply.
        replies[id] =
          drops[id] == .duringUnmasking ? Array(response.prefix(response.count / 2)) : response
      } catch {
        siteErrors[id] = "\(error)"
      }
    }
    return outcome(.success(try server.receiveUnmaskResponses(collect(replies))))
  } catch {
    return outcome(.failure(error))
  }
}
