import Foundation

/// The aggregator's append-only audit log: one JSON object per line, each
/// written with `O_APPEND` and flushed to disk with `fsync` before
/// `append` returns, so a crash loses at most the record being written.
///
/// Records name sites, rounds, decisions and reasons. Callers must never
/// pass keys or model values; `NetworkEvent` and `RoundRecord` carry
/// neither.
public final class NetworkAuditLog {
  /// The file path.
  public let path: String
  private let descriptor: Int32

  /// Opens (or creates, mode 0600) the log for appending.
  /// - Throws: `CocoaError` naming the path and `errno` text when it
  ///   cannot be opened.
  public init(path: String) throws {
    self.path = path
    descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
      throw CocoaError(
        .fileWriteUnknown,
        userInfo: [
          NSFilePathErrorKey: path,
          NSLocalizedDescriptionKey:
            "cannot open audit log \(path): \(String(cString: strerror(errno)))",
        ])
    }
  }

  deinit { close(descriptor) }

  /// Appends one record with the current UTC time and `event` as the
  /// event name, then calls `fsync`.
  /// - Throws: `CocoaError` when the write or `fsync` fails.
  public func append(event: String, fields: [String: AuditValue]) throws {
    var record = fields
    record["event"] = .text(event)
    record["time"] = .text(Self.timestamp())
    let line = "{" + record.keys.sorted().map { key in
      "\(Self.quoted(key)):\(record[key]!.json)"
    }.joined(separator: ",") + "}\n"
    let bytes = Array(line.utf8)
    var written = 0
    while written < bytes.count {
      let count = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else { throw failure("write") }
      written += count
    }
    guard fsync(descriptor) == 0 else { throw failure("fsync") }
  }

  /// Appends an event of a network transport.
  public func append(_ event: NetworkEvent) throws {
    var fields: [String: AuditValue] = ["detail": .text(event.detail)]
    if let site = event.site { fields["site"] = .text(site) }
    if let round = event.round { fields["round"] = .integer(round) }
    try append(event: event.kind.rawValue, fields: fields)
  }

  /// Appends one record per sampled site of a finished round (accepted,
  /// rejected, dropped out or timed out, with the reason and the bytes
  /// exchanged), then one for the round with the privacy budget spent.
  public func append(round record: RoundRecord, traffic: [String: SiteTraffic]) throws {
    for site in record.sites {
      var fields: [String: AuditValue] = [
        "round": .integer(record.round), "site": .text(site.site),
        "status": .text((site.status ?? (site.accepted ? .accepted : .rejected)).rawValue),
      ]
      if let reason = site.rejectionReason { fields["reason"] = .text(reason) }
      if let bytes = traffic[site.site] {
        fields["bytes_sent"] = .integer(bytes.bytesSent)
        fields["bytes_received"] = .integer(bytes.bytesReceived)
      }
      try append(event: site.accepted ? "update_accepted" : "update_rejected", fields: fields)
    }
    var fields: [String: AuditValue] = [
      "round": .integer(record.round), "accepted": .integer(record.acceptedSites),
      "sampled": .integer(record.sampledSites ?? record.sites.count),
    ]
    if let epsilon = record.privacyEpsilon { fields["epsilon_spent"] = .number(epsilon) }
    if let reason = record.skipReason { fields["skip_reason"] = .text(reason) }
    try append(event: "round_completed", fields: fields)
  }

  private func failure(_ call: String) -> CocoaError {
    CocoaError(
      .fileWriteUnknown,
      userInfo: [
        NSFilePathErrorKey: path,
        NSLocalizedDescriptionKey:
          "\(call) of audit log \(path) failed: \(String(cString: strerror(errno)))",
      ])
  }

  private static func timestamp() -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: Date())
  }

  static func quoted(_ text: String) -> String {
    let data = try! JSONEncoder().encode(text)
    return String(decoding: data, as: UTF8.self)
  }
}

/// A value in an audit record.
public enum AuditValue: Sendable, Equatable {
  case text(String)
  case integer(Int)
  case number(Double)

  var json: String {
    switch self {
    case .text(let text): return NetworkAuditLog.quoted(text)
    case .integer(let value): return String(value)
    case .number(let value): return value.isFinite ? "\(value)" : "null"
    }
  }
}
