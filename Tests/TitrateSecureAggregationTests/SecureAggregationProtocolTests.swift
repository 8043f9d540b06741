import Testing
import TitrateSodium

@testable import TitrateSecureAggregation

@Suite struct SecureAggregationProtocolTests {
  /// Random inputs below 2^bits for the given sites, from a fixed seed.
  func inputs(sites: Int, length: Int, bits: Int, seed: UInt64) -> [UInt32: [UInt64]?] {
    var randomness = RandomByteSource.seeded(seed)
    var result: [UInt32: [UInt64]?] = [:]
    for site in 0..<UInt32(sites) {
      result[site] = (0..<length).map { _ in randomness.word() & ((1 << UInt64(bits)) - 1) }
    }
    return result
  }

  /// Returns the plain sum of the inputs of `sites`, modulo 2^bits.
  func plainSum(_ inputs: [UInt32: [UInt64]?], sites: [UInt32], bits: Int) -> [UInt64] {
    var sum = [UInt64](repeating: 0, count: inputs.values.first!!.count)
    for site in sites {
      for (index, word) in inputs[site]!!.enumerated() { sum[index] &+= word }
    }
    return sum.map { $0 & ((1 << UInt64(bits)) - 1) }
  }

  @Test(arguments: [nil, 2, 4] as [Int?])
  func unmaskedSumEqualsPlainSum(neighbourCount: Int?) throws {
    let configuration = SecureAggregationConfiguration(
      threshold: 2, neighbourCount: neighbourCount, quantizationBits: 20, modulusBits: 24)
    let data = inputs(sites: 7, length: 33, bits: 20, seed: 1)
    let outcome = simulateSecureAggregationRound(
      round: 3, inputs: data, vectorLength: 33, configuration: configuration,
      randomness: .seeded(2))
    let result = try outcome.result.get()
    #expect(result.sum == plainSum(data, sites: Array(0..<7), bits: 24))
    #expect(result.includedSites == Array(0..<7))
    #expect(outcome.siteErrors.isEmpty)
    // A masked input on its own is far from the input it hides.
    #expect(outcome.serverView[0]! != data[0]!!)
  }

  @Test func neighbourGraphIsRegularAndSymmetric() {
    var randomness = RandomByteSource.seeded(4)
    let graph = NeighbourGraph(
      participants: Array(0..<9), neighbourCount: 4, randomness: &randomness)
    for (site, neighbours) in graph.neighbours {
      #expect(neighbours.count == 4)
      #expect(!neighbours.contains(site))
      for neighbour in neighbours { #expect(graph.neighbours[neighbour]!.contains(site)) }
    }
  }

  /// Site 2 of 7 leaves at each stage (ring with k = 4, t = 3); the round
  /// still completes, with the site's input in the sum exactly when it
  /// sent its masked input.
  @Test(arguments: SimulatedDropStage.allCases)
  func recoversFromDropoutAt(stage: SimulatedDropStage) throws {
    let configuration = SecureAggregationConfiguration(
      threshold: 3, neighbourCount: 4, quantizationBits: 16, modulusBits: 20)
    let data = inputs(sites: 7, length: 17, bits: 16, seed: 9)
    let outcome = simulateSecureAggregationRound(
      round: 1, inputs: data, vectorLength: 17, configuration: configuration,
      drops: [2: stage], randomness: .seeded(10))
    let result = try outcome.result.get()
    let included: [UInt32] = stage.inputIncluded ? Array(0..<7) : [0, 1, 3, 4, 5, 6]
    #expect(result.includedSites == included)
    #expect(result.sum == plainSum(data, sites: included, bits: 20))
    #expect(result.recoveredDroppedSites == (stage == .afterSharingKeys ? [2] : []))
  }

  @Test func recoversFromDropoutsAtEveryStageTogether() throws {
    let configuration = SecureAggregationConfiguration(
      threshold: 3, quantizationBits: 16, modulusBits: 24)
    let data = inputs(sites: 9, length: 8, bits: 16, seed: 12)
    let drops: [UInt32: SimulatedDropStage] = [
      1: .afterAdvertisingKeys, 3: .afterSharingKeys, 5: .afterMaskedInput, 7: .duringUnmasking,
    ]
    let outcome = simulateSecureAggregationRound(
      round: 2, inputs: data, vectorLength: 8, configuration: configuration, drops: drops,
      randomness: .seeded(13))
    let result = try outcome.result.get()
    #expect(result.includedSites == [0, 2, 4, 5, 6, 7, 8])
    #expect(result.sum == plainSum(data, sites: [0, 2, 4, 5, 6, 7, 8], bits: 24))
    #expect(result.recoveredDroppedSites == [3])
  }

  /// With 5 sites and t = 4, two sites leaving at a stage leave 3
  /// survivors, so the server stops before it requests any share.
  @Test(arguments: [SimulatedDropStage.afterAdvertisingKeys, .afterSharingKeys])
  func abortsBelowThreshold(stage: SimulatedDropStage) {
    let configuration = SecureAggregationConfiguration(
      threshold: 4, quantizationBits: 16, modulusBits: 20)
    let data = inputs(sites: 5, length: 4, bits: 16, seed: 14)
    let outcome = simulateSecureAggregationRound(
      round: 1, inputs: data, vectorLength: 4, configuration: configuration,
      drops: [0: stage, 4: stage], randomness: .seeded(15))
    guard case .failure(let abort) = outcome.result else {
      Issue.record("the round completed with 3 of 5 sites and t = 4")
      return
    }
    #expect(abort.stage == (stage == .afterAdvertisingKeys ? .shareKeys : .maskedInput))
    #expect(abort.reason.contains("fewer than the threshold 4"))
  }

  /// Two of five survivors respond to the unmask request with t = 3, so
  /// too few shares arrive and the server outputs no sum.
  @Test func abortsWhenUnmaskSharesFallShort() {
    let configuration = SecureAggregationConfiguration(
      threshold: 3, quantizationBits: 16, modulusBits: 20)
    let data = inputs(sites: 5, length: 4, bits: 16, seed: 16)
    let outcome = simulateSecureAggregationRound(
      round: 1, inputs: data, vectorLength: 4, configuration: configuration,
      drops: [0: .afterMaskedInput, 1: .duringUnmasking, 2: .afterMaskedInput],
      randomness: .seeded(17))
    guard case .failure(let abort) = outcome.result else {
      Issue.record("the round completed with 2 unmask responses and t = 3")
      return
    }
    #expect(abort.stage == .unmasking)
  }

  /// Over many drop patterns the server never receives shares of both the
  /// self-mask seed and the masking key of one site.
  @Test func serverNeverHoldsBothSecretsOfOneSite() {
    let configuration = SecureAggregationConfiguration(
      threshold: 3, neighbourCount: 4, quantizationBits: 8, modulusBits: 16)
    let data = inputs(sites: 8, length: 2, bits: 8, seed: 18)
    for pattern in 0..<20 {
      var drops: [UInt32: SimulatedDropStage] = [:]
      let stages = SimulatedDropStage.allCases
      drops[UInt32(pattern % 8)] = stages[pattern % 4]
      drops[UInt32((pattern * 3 + 1) % 8)] = stages[(pattern / 4) % 4]
      let outcome = simulateSecureAggregationRound(
        round: UInt64(pattern), inputs: data, vectorLength: 2, configuration: configuration,
        drops: drops, randomness: .seeded(UInt64(100 + pattern)))
      if case .success(let result) = outcome.result {
        #expect(Set(result.includedSites).isDisjoint(with: result.recoveredDroppedSites))
      }
    }
    // The revealed owners, checked directly on a server driven stage by
    // stage with one dropped site.
    let (server, _) = driveRoundManually(dropAfterSharing: 3)
    #expect(server.receivedSeedShareOwners == [0, 1, 2, 4])
    #expect(server.receivedKeyShareOwners == [3])
    #expect(server.receivedSeedShareOwners.isDisjoint(with: server.receivedKeyShareOwners))
  }

  /// A site rejects an unmask request for both secrets of one site, which
  /// a dishonest server would need to unmask that site's input.
  @Test func siteRefusesRequestForBothSecrets() throws {
    let (_, sites) = driveRoundManually(dropAfterSharing: nil)
    let greedy = UnmaskRequestMessage(survivors: [0, 1, 2, 3, 4], dropped: [2]).encoded()
    #expect(throws: SecureAggregationSiteError.self) { try sites[0]!.unmask(request: greedy) }
    let tooFew = UnmaskRequestMessage(survivors: [0, 1], dropped: [2, 3, 4]).encoded()
    #expect(throws: SecureAggregationSiteError.self) { try sites[0]!.unmask(request: tooFew) }
  }

  /// Runs a round over 5 sites (complete graph, t = 3, every input
  /// [1, 2, 3]) stage by stage. With a dropped site, that site sends no
  /// masked input and stage 3 runs too. Without one, the round stops
  /// after stage 2, so a test can send its own unmask requests.
  func driveRoundManually(
    dropAfterSharing dropped: UInt32?
  ) -> (SecureAggregationServer, [UInt32: SecureAggregationSite]) {
    var randomness = RandomByteSource.seeded(30)
    let server = SecureAggregationServer(
      round: 1, participants: [0, 1, 2, 3, 4], neighbourCount: 4, threshold: 3,
      modulusBits: 16, vectorLength: 3, randomness: &randomness)
    var sites: [UInt32: SecureAggregationSite] = [:]
    for (id, bytes) in server.setupMessages() {
      sites[id] = try! SecureAggregationSite(
        setup: bytes, randomness: randomness.derived(stream: UInt64(id) + 1))
    }
    let keys = try! server.receiveAdvertisedKeys(sites.mapValues { $0.advertiseKeys() })
    var sealed: [UInt32: [UInt8]] = [:]
    for (id, bytes) in keys { sealed[id] = try! sites[id]!.shareKeys(neighbourKeys: bytes) }
    let shares = try! server.receiveEncryptedShares(sealed)
    var masked: [UInt32: [UInt8]] = [:]
    for (id, bytes) in shares where id != dropped {
      masked[id] = try! sites[id]!.maskedInput(forwardedShares: bytes, input: [1, 2, 3])
    }
    let requests = try! server.receiveMaskedInputs(masked)
    if dropped != nil {
      var answers: [UInt32: [UInt8]] = [:]
      for (id, bytes) in requests { answers[id] = try! sites[id]!.unmask(request: bytes) }
      let result = try! server.receiveUnmaskResponses(answers)
      precondition(result.sum == [4, 8, 12], "4 survivors of [1, 2, 3] sum to [4, 8, 12]")
    }
    return (server, sites)
  }
}
