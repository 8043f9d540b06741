/// The message a site receives at each stage and the reply it sends.
extension SecureAggregationStage {
  /// Position in the round, 0...3.
  public var index: Int { Self.allCases.firstIndex(of: self)! }
}

extension SimulatedDropStage {
  /// Whether a site scheduled to leave at this stage still replies to the
  /// server's message of `stage`. It replies up to and including the
  /// stage it leaves after; `duringUnmasking` sends a cut-off response.
  public func sendsReply(at stage: SecureAggregationStage) -> Bool {
    switch self {
    case .afterAdvertisingKeys: return stage == .advertiseKeys
    case .afterSharingKeys: return stage.index <= SecureAggregationStage.shareKeys.index
    case .afterMaskedInput: return stage.index <= SecureAggregationStage.maskedInput.index
    case .duringUnmasking: return true
    }
  }
}

/// The outcome of a round whose sites ran in other places, seen from the
/// server.
public struct SecureAggregationServerOutcome: Sendable {
  /// The unmasked sum, or the reason the round was aborted.
  public var result: Result<SecureAggregationResult, SecureAggregationAbort>
  /// Message bytes exchanged, counted as the protocol messages' lengths.
  public var traffic: SecureAggregationTraffic
  /// The sites the server sent a message to at each stage that ran.
  public var addressed: [SecureAggregationStage: Set<UInt32>]
  /// The sites whose reply arrived at each stage that ran. A site that
  /// had no input to mask sends an empty reply at `maskedInput`, which
  /// counts as no reply.
  public var replied: [SecureAggregationStage: Set<UInt32>]

  /// Returns the first stage at which `site` was sent a message and did
  /// not reply, or nil when it replied at every stage it was sent one.
  public func firstSilentStage(of site: UInt32) -> SecureAggregationStage? {
    SecureAggregationStage.allCases.first { stage in
      addressed[stage]?.contains(site) == true && replied[stage]?.contains(site) != true
    }
  }
}

/// Runs the server half of one SecAgg+ round whose site halves run
/// elsewhere (other processes or ranks).
///
/// `exchange(stage, messages)` delivers the server's message to each site
/// for `stage` (the round setup at `advertiseKeys`, the neighbours' keys
/// at `shareKeys`, the forwarded shares at `maskedInput` and the unmask
/// request at `unmasking`), and returns the replies that arrived before
/// the stage closed. A site without a reply is a dropout at that stage,
/// which the server recovers from exactly as in
/// `simulateSecureAggregationRound`.
/// - Throws: whatever `exchange` throws (a transport failure, not a
///   dropout); an abort of the protocol is returned in the outcome.
public func runSecureAggregationServer(
  _ server: SecureAggregationServer,
  exchange: (SecureAggregationStage, [UInt32: [UInt8]]) throws -> [UInt32: [UInt8]]
) throws -> SecureAggregationServerOutcome {
  var outcome = SecureAggregationServerOutcome(
    result: .failure(SecureAggregationAbort(stage: .advertiseKeys, reason: "not run")),
    traffic: SecureAggregationTraffic(), addressed: [:], replied: [:])

  func run(
    _ stage: SecureAggregationStage, _ messages: [UInt32: [UInt8]]
  ) throws -> [UInt32: [UInt8]] {
    outcome.addressed[stage] = Set(messages.keys)
    outcome.traffic.serverToSitesBytes += messages.values.reduce(0) { $0 + $1.count }
    let replies = try exchange(stage, messages).filter {
      messages[$0.key] != nil && !$0.value.isEmpty
    }
    outcome.replied[stage] = Set(replies.keys)
    outcome.traffic.sitesToServerBytes += replies.values.reduce(0) { $0 + $1.count }
    return replies
  }

  // Transport errors propagate; only the server's aborts end the round
  // with an outcome.
  do {
    let keys = try run(.advertiseKeys, server.setupMessages())
    let shares = try run(.shareKeys, try server.receiveAdvertisedKeys(keys))
    let inputs = try run(.maskedInput, try server.receiveEncryptedShares(shares))
    let responses = try run(.unmasking, try server.receiveMaskedInputs(inputs))
    outcome.result = .success(try server.receiveUnmaskResponses(responses))
  } catch let abort as SecureAggregationAbort {
    outcome.result = .failure(abort)
  }
  return outcome
}
