/// The encoding of a site's model delta for the aggregator, with the
/// scheme's parameters.
///
/// Every lossy scheme keeps error feedback at the site. What the encoding
/// lost in one round is added to the site's next delta before that delta
/// is encoded, `e <- (x + e) - C(x + e)`, so the loss does not build up
/// over rounds. Sources: Seide et al. 2014 (1-bit SGD), Karimireddy et
/// al. 2019 (EF-SGD), Stich et al. 2018 and Lin et al. 2018 (top-k).
public enum UpdateCompression: Sendable, Hashable {
  /// Float64 values, bit for bit (8 bytes per parameter).
  case none
  /// IEEE 754 half precision (2 bytes per parameter). Values beyond
  /// +-65504 are clamped, and the clamped part is fed back.
  case float16
  /// Symmetric 8-bit quantisation of each block of `blockSize`
  /// consecutive parameters in flat order (the last block may be
  /// shorter): scale = max|x| / 127 stored as Float32, q = x / scale
  /// rounded to nearest with ties away from zero, in -127...127. 1 byte
  /// per parameter plus 4 bytes per block.
  case int8(blockSize: Int)
  /// Top-k sparsification: the `keptCount(of:)` entries of largest
  /// magnitude (ties to the lower index) as UInt32 indices and Float32
  /// values, 8 bytes per kept entry. The others are fed back whole.
  case topK(fraction: Double)

  /// The scheme without its parameters, for lists of accepted schemes.
  public enum Scheme: String, Sendable, CaseIterable, Hashable {
    case none
    case float16
    case int8
    case topk
  }

  /// Block size of `int8` without `:BLOCK`. With 256 values per scale,
  /// the scales cost 1.6 % of the int8 bytes. A block also spans less
  /// than one 64-wide layer's weight matrix, so a layer with large
  /// weights does not coarsen the steps of a layer with small ones.
  public static let defaultInt8BlockSize = 256
  /// Allowed int8 block sizes, in parameters.
  public static let int8BlockSizes = 8...65_536

  /// Parses the command-line form: `none`, `float16`, `int8`,
  /// `int8:BLOCK` (BLOCK in `int8BlockSizes`) or `topk:FRACTION`
  /// (FRACTION in (0, 1]).
  /// - Throws: `UpdateCompressionError.invalidName` naming the text and
  ///   the accepted forms.
  public init(parsing text: String) throws {
    let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
    guard let scheme = parts.first.flatMap(Scheme.init(rawValue:)) else {
      throw UpdateCompressionError.invalidName(text, reason: "unknown scheme")
    }
    let parameter = parts.count == 2 ? parts[1] : nil
    switch scheme {
    case .none, .float16:
      guard parameter == nil else {
        throw UpdateCompressionError.invalidName(
          text, reason: "\(scheme.rawValue) takes no parameter")
      }
      self = scheme == .none ? .none : .float16
    case .int8:
      guard let parameter else {
        self = .int8(blockSize: Self.defaultInt8BlockSize)
        return
      }
      guard let size = Int(parameter), Self.int8BlockSizes.contains(size) else {
        throw UpdateCompressionError.invalidName(
          text, reason: "the int8 block size must be an integer in 8-65536")
      }
      self = .int8(blockSize: size)
    case .topk:
      guard let parameter else {
        throw UpdateCompressionError.invalidName(
          text, reason: "top-k needs the kept fraction, such as topk:0.05")
      }
      guard let fraction = Double(parameter), fraction > 0, fraction <= 1 else {
        throw UpdateCompressionError.invalidName(
          text, reason: "the top-k fraction must be a number above 0 and at most 1")
      }
      self = .topK(fraction: fraction)
    }
  }

  /// The scheme without its parameters.
  public var scheme: Scheme {
    switch self {
    case .none: return .none
    case .float16: return .float16
    case .int8: return .int8
    case .topK: return .topk
    }
  }

  /// The command-line form, which `init(parsing:)` reads back.
  public var name: String {
    switch self {
    case .none: return "none"
    case .float16: return "float16"
    case .int8(let blockSize): return "int8:\(blockSize)"
    case .topK(let fraction): return "topk:\(fraction)"
    }
  }

  /// Entries a top-k update of `count` parameters keeps: ceil(fraction x
  /// count), at least 1 when `count` > 0. `count` itself for the dense
  /// schemes.
  public func keptCount(of count: Int) -> Int {
    guard case .topK(let fraction) = self, count > 0 else { return count }
    return min(count, max(1, Int((fraction * Double(count)).rounded(.up))))
  }

  /// Bytes that the delta of `parameterCount` values takes in a result
  /// payload: the values, the scheme's parameters and the array lengths.
  /// The rest of the result (site name, round, sample count, statistics,
  /// round report) is the same for every scheme.
  public func encodedDeltaBytes(parameterCount: Int) -> Int {
    let words = { (values: Int, perWord: Int) in 8 + 8 * ((values + perWord - 1) / perWord) }
    switch self {
    case .none:
      return 8 + 8 * parameterCount
    case .float16:
      return 8 + words(parameterCount, 4)
    case .int8(let blockSize):
      let blocks = (parameterCount + blockSize - 1) / blockSize
      return 8 + 8 + (8 + 4 * blocks) + words(parameterCount, 8)
    case .topK:
      let kept = keptCount(of: parameterCount)
      return 8 + 8 + words(kept, 2) + (8 + 4 * kept)
    }
  }

  /// Code of the scheme in the first 8 bytes of a result payload.
  var wireCode: Int {
    switch self {
    case .none: return 0
    case .float16: return 1
    case .int8: return 2
    case .topK: return 3
    }
  }
}

/// Stored as its command-line form (`name`), such as `"int8:256"`, so a
/// checkpoint's configuration JSON reads like the option that set it.
extension UpdateCompression: Codable {
  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    do {
      try self.init(parsing: text)
    } catch {
      throw DecodingError.dataCorrupted(
        .init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(name)
  }
}

/// Errors of update compression settings and of compressed updates.
public enum UpdateCompressionError: Error, Equatable, CustomStringConvertible {
  /// A command-line scheme that `UpdateCompression(parsing:)` cannot read.
  case invalidName(String, reason: String)
  /// A result payload names an encoding this build does not know.
  case unknownEncoding(Int)
  /// A compressed delta whose layout or values are impossible.
  case malformed(scheme: String, detail: String)

  public var description: String {
    switch self {
    case .invalidName(let text, let reason):
      return "update compression '\(text)' is invalid: \(reason); use none, float16, int8, "
        + "int8:BLOCK or topk:FRACTION"
    case .unknownEncoding(let code):
      return "unknown update encoding \(code) (known: 0 none, 1 float16, 2 int8, 3 topk); "
        + "run the same titrate release at the site and the aggregator"
    case .malformed(let scheme, let detail):
      return "malformed \(scheme) update: \(detail)"
    }
  }
}
