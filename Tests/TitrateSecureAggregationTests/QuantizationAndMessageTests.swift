import Testing
import TitrateSodium

@testable import TitrateSecureAggregation

@Suite struct QuantizationAndMessageTests {
  /// c = 1, b = 2: L = 3 levels above 0, step 2/3. x = 0 sits at level
  /// 1.5 and rounds away from zero to 2; x = 0.2 sits at 1.8 and rounds to 2.
  @Test func quantizesHandWorkedValues() {
    let quantizer = FixedPointQuantizer(clipRange: 1, quantizationBits: 2, modulusBits: 8)
    #expect(quantizer.quantize(-1) == 0)
    #expect(quantizer.quantize(1) == 3)
    #expect(quantizer.quantize(0) == 2)
    #expect(quantizer.quantize(0.2) == 2)
    #expect(quantizer.quantize(-0.7) == 0)
    #expect(quantizer.quantize(5) == 3)
    #expect(quantizer.quantize(-.infinity) == 0)
    #expect(abs(quantizer.dequantizeSum(3, count: 2) - 0) < 1e-15)
    #expect(quantizer.quantizeWeight(0.5) == 2)
  }

  @Test func sumDecodesWithinHalfAStepPerSite() {
    let quantizer = FixedPointQuantizer(clipRange: 0.5, quantizationBits: 20, modulusBits: 32)
    let values = [0.1234, -0.4999, 0.25, 0.0001, -0.3]
    let sum = values.reduce(UInt64(0)) { $0 + quantizer.quantize($1) }
    let decoded = quantizer.dequantizeSum(sum, count: values.count)
    let tolerance = Double(values.count) * quantizer.step / 2 + 1e-12
    #expect(abs(decoded - values.reduce(0, +)) <= tolerance)
  }

  @Test func rejectsModulusTooSmallForSites() {
    let configuration = SecureAggregationConfiguration(quantizationBits: 30, modulusBits: 32)
    let problems = configuration.problems(siteCount: 16, expectedParticipantCount: 16)
    #expect(problems.count == 1)
    #expect(problems.first?.contains("16 sites x 1073741823") == true)
    #expect(problems.first?.contains("Raise --secagg-modulus-bits to 34") == true)
    #expect(configuration.problems(siteCount: 4, expectedParticipantCount: 4).isEmpty)
  }

  @Test func rejectsInvalidGraphSettings() {
    let odd = SecureAggregationConfiguration(neighbourCount: 3)
    #expect(odd.problems(siteCount: 8, expectedParticipantCount: 8).contains { $0.contains("even") })
    let loose = SecureAggregationConfiguration(threshold: 1)
    #expect(loose.problems(siteCount: 5, expectedParticipantCount: 5).contains { $0.contains("threshold: 1") })
    let tiny = SecureAggregationConfiguration()
    #expect(tiny.problems(siteCount: 2, expectedParticipantCount: 2).contains { $0.contains("at least 3 sites") })
    #expect(SecureAggregationConfiguration().effectiveThreshold(participantCount: 7) == 4)
    #expect(SecureAggregationConfiguration(neighbourCount: 4).effectiveThreshold(participantCount: 16) == 3)
  }

  @Test func messagesRoundTripThroughBytes() throws {
    let masked = MaskedInputMessage(site: 3, modulusBits: 20, words: [0, 1, (1 << 20) - 1])
    #expect(try MaskedInputMessage(decoding: masked.encoded()) == masked)
    #expect(masked.encoded().count == 1 + 4 + 4 + 4 + 3 * 3)
    let request = UnmaskRequestMessage(survivors: [0, 2, 5], dropped: [1])
    #expect(try UnmaskRequestMessage(decoding: request.encoded()) == request)
    let response = UnmaskResponseMessage(
      site: 2,
      selfMaskSeedShares: [RevealedShare(owner: 0, share: KeyShare(x: 3, values: Array(1...8)))],
      maskingKeyShares: [])
    #expect(try UnmaskResponseMessage(decoding: response.encoded()) == response)
    let truncated = Array(response.encoded().dropLast(5))
    #expect(throws: MessageDecodingError.self) { try UnmaskResponseMessage(decoding: truncated) }
    #expect(throws: MessageDecodingError.self) { try MaskedInputMessage(decoding: request.encoded()) }
  }
}
