/// Invalid differential-privacy settings. Each message names the value, the
/// allowed range and the fix.
public enum PrivacyConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A numeric setting outside its allowed range.
  case parameterOutOfRange(name: String, value: Double, allowed: String, fix: String)
  /// Adaptive clipping spends part of the privacy budget on the noisy count,
  /// so the total noise multiplier z must stay below 2 sigma_b.
  case countNoiseTooSmall(noiseMultiplier: Double, countNoiseStandardDeviation: Double)

  public var description: String {
    switch self {
    case .parameterOutOfRange(let name, let value, let allowed, let fix):
      return "\(name) = \(value) is outside \(allowed); \(fix)"
    case .countNoiseTooSmall(let z, let sigmaB):
      return
        "adaptive clipping needs noise multiplier z < 2 * count noise sigma_b: z = \(z),"
        + " sigma_b = \(sigmaB). Lower the noise multiplier (--dp-noise-multiplier) below"
        + " \(2 * sigmaB), or sample more sites per round (sigma_b is the expected sites per round / 20)"
    }
  }
}
