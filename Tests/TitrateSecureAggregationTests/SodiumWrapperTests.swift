import Testing
import TitrateSodium

@Suite struct SodiumWrapperTests {
  init() throws { try Sodium.initialize() }

  /// RFC 8439, appendix A.1, test vector 1: the ChaCha20 block for an
  /// all-zero key and nonce at block counter 0.
  @Test func chaCha20MatchesRFC8439Vector() {
    let expected: [UInt8] = [
      0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90, 0x40, 0x5d, 0x6a, 0xe5, 0x53, 0x86, 0xbd,
      0x28, 0xbd, 0xd2, 0x19, 0xb8, 0xa0, 0x8d, 0xed, 0x1a, 0xa8, 0x36, 0xef, 0xcc, 0x8b, 0x77,
      0x0d, 0xc7, 0xda, 0x41, 0x59, 0x7c, 0x51, 0x57, 0x48, 0x8d, 0x77, 0x24, 0xe0, 0x3f, 0xb8,
      0xd8, 0x4a, 0x37, 0x6a, 0x43, 0xb8, 0xf4, 0x15, 0x18, 0xa1, 0x1c, 0xc3, 0x87, 0xb6, 0x69,
      0xb2, 0xee, 0x65, 0x86,
    ]
    let stream = ChaCha20Stream(key: [UInt8](repeating: 0, count: 32))
    #expect(stream.bytes(count: 64) == expected)
    #expect(stream.words(count: 1) == [0x903d_f1a0_ade0_b876])
  }

  @Test func sharedKeyIsSymmetricAndContextBound() throws {
    var randomness = RandomByteSource.seeded(11)
    let alice = X25519KeyPair(randomFrom: &randomness)
    let bob = X25519KeyPair(randomFrom: &randomness)
    let fromAlice = try alice.sharedKey(peerPublicKey: bob.publicKey, context: "mask")
    let fromBob = try bob.sharedKey(peerPublicKey: alice.publicKey, context: "mask")
    #expect(fromAlice == fromBob)
    #expect(try alice.sharedKey(peerPublicKey: bob.publicKey, context: "share") != fromAlice)
    #expect(try X25519KeyPair(secretKey: alice.secretKey) == alice)
    #expect(throws: SodiumError.invalidPublicKey) {
      try alice.sharedKey(peerPublicKey: [UInt8](repeating: 0, count: 32), context: "mask")
    }
  }

  @Test func sealedMessageOpensOnlyUnchanged() throws {
    var randomness = RandomByteSource.seeded(5)
    let key = randomness.bytes(count: 32)
    let header: [UInt8] = [1, 2, 3]
    let sealed = try AuthenticatedEncryption.seal(
      Array("share".utf8), key: key, associatedData: header, randomness: &randomness)
    #expect(sealed.count == 5 + 24 + 16)
    #expect(try AuthenticatedEncryption.open(sealed, key: key, associatedData: header) == Array("share".utf8))
    var altered = sealed
    altered[30] ^= 1
    #expect(throws: SodiumError.authenticationFailed) {
      try AuthenticatedEncryption.open(altered, key: key, associatedData: header)
    }
    #expect(throws: SodiumError.authenticationFailed) {
      try AuthenticatedEncryption.open(sealed, key: key, associatedData: [1, 2, 4])
    }
  }

  @Test func seededSourcesAreReproducibleAndSeparate() {
    var first = RandomByteSource.seeded(1)
    var again = RandomByteSource.seeded(1)
    var derived = RandomByteSource.seeded(1).derived(stream: 1)
    let bytes = first.bytes(count: 16)
    #expect(bytes == again.bytes(count: 16))
    #expect(bytes != derived.bytes(count: 16))
    #expect(first.bytes(count: 16) != bytes)
  }
}
