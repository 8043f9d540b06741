/// Applies a site's update compression, with its error feedback, to the
/// results of another transport, so that a run in one process (or over
/// MPI) carries the same loss as network sites that compress.
///
/// Each trained result goes through the network's result encoding and
/// back: the delta the aggregator receives is what a network aggregator
/// would decode, bit for bit, and `lastRoundResultBytes` is the payload
/// a network site would send. Each site's residual lives in this object,
/// keyed by site name, and changes only in rounds the site trains.
///
/// NOTE: the residuals are not written to checkpoints, so a run resumed
/// from a checkpoint starts every site with a zero residual and its
/// model differs from an uninterrupted run's.
public final class CompressingTransport: FederationTransport {
  /// The transport that trains the sites.
  public let inner: any FederationTransport
  /// The encoding every site uses.
  public let compression: UpdateCompression
  /// Each site's error-feedback memory, by site name.
  public private(set) var residuals: [String: CompressionResidual] = [:]
  /// Bytes of each trained site's result payload (delta, sample count,
  /// statistics and round report, without the message header) in the
  /// last round, by site name.
  public private(set) var lastRoundResultBytes: [String: Int] = [:]

  public init(inner: any FederationTransport, compression: UpdateCompression) {
    self.inner = inner
    self.compression = compression
  }

  public func trainSites(
    _ request: SiteTrainingRequest, trainer: FederatedTrainer
  ) throws -> [SiteTrainingResult] {
    var results = try inner.trainSites(request, trainer: trainer)
    lastRoundResultBytes = [:]
    for position in results.indices where results[position].record.status == .accepted {
      let site = results[position].update.siteName
      let encoded = residuals[site, default: CompressionResidual()].compress(
        results[position].update.delta, with: compression)
      var writer = TransportWriter()
      try writer.append(results[position], encodedDelta: encoded)
      var reader = TransportReader(writer.bytes, context: "site \(site) result")
      let (decoded, _) = try reader.readEncodedResult(
        parameterCount: request.globalParameters.count)
      results[position].update.delta = decoded.update.delta
      lastRoundResultBytes[site] = writer.bytes.count
    }
    return results
  }

  public func collectSiteStates(into trainer: FederatedTrainer) throws {
    try inner.collectSiteStates(into: trainer)
  }

  public func finish() throws { try inner.finish() }
}
