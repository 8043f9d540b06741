import Testing
import TitrateHashing

/// Example vectors from FIPS 180-4's companion examples (NIST, "SHA256.pdf"
/// and "SHA2_Additional.pdf").
@Suite("SHA-256")
struct SHA256Tests {
  @Test func abcVector() {
    #expect(
      SHA256.hexDigest(of: "abc")
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  }

  @Test func twoBlockVector() {
    // 448 bits, so the padding spills into a second block.
    let message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
    #expect(message.utf8.count * 8 == 448)
    #expect(
      SHA256.hexDigest(of: message)
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
  }

  @Test func millionAVector() {
    var hasher = SHA256()
    let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
    for _ in 0..<1000 {
      hasher.update(chunk)
    }
    #expect(
      SHA256.hexString(hasher.finalize())
        == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  @Test func emptyMessage() {
    #expect(
      SHA256.hexDigest(of: "")
        == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  }

  @Test func splitUpdatesMatchOneUpdate() {
    // Split points around the 64-byte block and the 56-byte padding limit.
    let message = (0..<200).map { UInt8(truncatingIfNeeded: $0 * 7) }
    let whole = SHA256.hash(message)
    for split in [0, 1, 55, 56, 63, 64, 65, 127, 128, 199, 200] {
      var hasher = SHA256()
      hasher.update(Array(message[..<split]))
      hasher.update(Array(message[split...]))
      #expect(hasher.finalize() == whole, "split at \(split)")
    }
  }
}
