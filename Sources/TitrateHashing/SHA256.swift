/// SHA-256 message digest (FIPS 180-4, section 6.2), written in Swift
/// because CryptoKit is not available on Linux.
///
/// Feed bytes with `update` and finish with `finalize()`, or hash a whole
/// message with `SHA256.hash(_:)`.
public struct SHA256: Sendable {
  /// Digest length in bytes.
  public static let digestByteCount = 32

  // Initial hash value H(0) (FIPS 180-4, section 5.3.3).
  private var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (
    0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a,
    0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19
  )
  private var pendingBlock = [UInt8](repeating: 0, count: 64)
  private var pendingCount = 0
  private var messageByteCount: UInt64 = 0

  /// Creates a hasher with no input.
  public init() {}

  /// Appends `bytes` to the message.
  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    messageByteCount &+= UInt64(bytes.count)
    var offset = 0
    // Top up a partly filled block first.
    if pendingCount > 0 {
      let taken = min(64 - pendingCount, bytes.count)
      for index in 0..<taken {
        pendingBlock[pendingCount + index] = bytes[index]
      }
      pendingCount += taken
      offset = taken
      if pendingCount == 64 {
        pendingBlock.withUnsafeBytes { compress($0) }
        pendingCount = 0
      }
    }
    // Whole blocks straight from the input.
    while bytes.count - offset >= 64 {
      compress(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + 64)]))
      offset += 64
    }
    // Keep the tail for later.
    for index in offset..<bytes.count {
      pendingBlock[pendingCount] = bytes[index]
      pendingCount += 1
    }
  }

  /// Appends `bytes` to the message.
  public mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { update($0) }
  }

  /// Appends the UTF-8 encoding of `text` to the message.
  public mutating func update(_ text: String) {
    update(Array(text.utf8))
  }

  /// Pads the message (FIPS 180-4, section 5.1.1) and returns the 32-byte
  /// digest. The hasher must not be used afterwards.
  public mutating func finalize() -> [UInt8] {
    let messageBitCount = messageByteCount &* 8
    var padding: [UInt8] = [0x80]
    let zeroCount = (64 + 56 - (pendingCount + 1) % 64) % 64
    padding += [UInt8](repeating: 0, count: zeroCount)
    for shift in stride(from: 56, through: 0, by: -8) {
      padding.append(UInt8(truncatingIfNeeded: messageBitCount >> UInt64(shift)))
    }
    update(padding)
    precondition(pendingCount == 0, "SHA-256 padding did not end on a block boundary")

    var digest: [UInt8] = []
    digest.reserveCapacity(Self.digestByteCount)
    let words = [state.0, state.1, state.2, state.3, state.4, state.5, state.6, state.7]
    for word in words {
      for shift in stride(from: 24, through: 0, by: -8) {
        digest.append(UInt8(truncatingIfNeeded: word >> UInt32(shift)))
      }
    }
    return digest
  }

  /// Returns the digest of `bytes`.
  public static func hash(_ bytes: [UInt8]) -> [UInt8] {
    var hasher = SHA256()
    hasher.update(bytes)
    return hasher.finalize()
  }

  /// Returns the digest of the UTF-8 encoding of `text` as 64 lower-case
  /// hexadecimal digits.
  public static func hexDigest(of text: String) -> String {
    hexString(hash(Array(text.utf8)))
  }

  /// Formats bytes as lower-case hexadecimal digits, two per byte.
  public static func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var characters: [UInt8] = []
    characters.reserveCapacity(bytes.count * 2)
    for byte in bytes {
      characters.append(digits[Int(byte >> 4)])
      characters.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: characters, as: UTF8.self)
  }

  /// Processes one 64-byte block (FIPS 180-4, section 6.2.2).
  private mutating func compress(_ block: UnsafeRawBufferPointer) {
    withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
      // Message schedule W(t), big-endian words.
      for t in 0..<16 {
        let base = t * 4
        schedule[t] =
          UInt32(block[base]) << 24 | UInt32(block[base + 1]) << 16
          | UInt32(block[base + 2]) << 8 | UInt32(block[base + 3])
      }
      for t in 16..<64 {
        let s0 = rotateRight(schedule[t - 15], 7) ^ rotateRight(schedule[t - 15], 18)
          ^ (schedule[t - 15] >> 3)
        let s1 = rotateRight(schedule[t - 2], 17) ^ rotateRight(schedule[t - 2], 19)
          ^ (schedule[t - 2] >> 10)
        schedule[t] = schedule[t - 16] &+ s0 &+ schedule[t - 7] &+ s1
      }

      var (a, b, c, d, e, f, g, h) = state
      for t in 0..<64 {
        let sum1 = rotateRight(e, 6) ^ rotateRight(e, 11) ^ rotateRight(e, 25)
        let choose = (e & f) ^ (~e & g)
        let temp1 = h &+ sum1 &+ choose &+ roundConstants[t] &+ schedule[t]
        let sum0 = rotateRight(a, 2) ^ rotateRight(a, 13) ^ rotateRight(a, 22)
        let majority = (a & b) ^ (a & c) ^ (b & c)
        let temp2 = sum0 &+ majority
        h = g
        g = f
        f = e
        e = d &+ temp1
        d = c
        c = b
        b = a
        a = temp1 &+ temp2
      }
      state = (
        state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d,
        state.4 &+ e, state.5 &+ f, state.6 &+ g, state.7 &+ h
      )
    }
  }
}

@inline(__always)
private func rotateRight(_ value: UInt32, _ count: UInt32) -> UInt32 {
  (value >> count) | (value << (32 - count))
}

/// Round constants K(0)...K(63) (FIPS 180-4, section 4.2.2).
private let roundConstants: [UInt32] = [
  0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4,
  0xab1c_5ed5, 0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe,
  0x9bdc_06a7, 0xc19b_f174, 0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f,
  0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da, 0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7,
  0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967, 0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc,
  0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85, 0xa2bf_e8a1, 0xa81a_664b,
  0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070, 0x19a4_c116,
  0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
  0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7,
  0xc671_78f2,
]
