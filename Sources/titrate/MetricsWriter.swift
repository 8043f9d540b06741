import Foundation
import TitrateFederation

/// Appends one record per round to a CSV or JSON-lines file. Keys carry
/// their unit or meaning (`rollout/mean_return`, `time/steps_per_second`).
final class MetricsWriter {
  let handle: FileHandle
  let isCSV: Bool
  let siteNames: [String]
  /// Adds each site's bytes sent and received per round (network runs).
  let recordsTraffic: Bool
  /// Adds each site's multiplier, greedy-policy cost and weight factor per
  /// round (runs with a per-site cost limit).
  let recordsSiteConstraint: Bool

  init(
    path: String, siteNames: [String], recordsTraffic: Bool = false,
    recordsSiteConstraint: Bool = false
  ) throws {
    let url = URL(fileURLWithPath: path)
    switch url.pathExtension {
    case "csv": isCSV = true
    case "jsonl", "json": isCSV = false
    default:
      throw CommandError.usage("--metrics \(path): use a .csv or .jsonl file name")
    }
    self.siteNames = siteNames
    self.recordsTraffic = recordsTraffic
    self.recordsSiteConstraint = recordsSiteConstraint
    let fileManager = FileManager.default
    let isNew = !fileManager.fileExists(atPath: url.path)
    if isNew { fileManager.createFile(atPath: url.path, contents: nil) }
    guard let handle = FileHandle(forWritingAtPath: url.path) else {
      throw CommandError.failure("cannot open metrics file \(path) for writing")
    }
    if !isNew && isCSV {
      let existing = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
      let header = existing.split(separator: "\n", omittingEmptySubsequences: false).first ?? ""
      let expected = Self.keys(
        siteNames, traffic: recordsTraffic, siteConstraint: recordsSiteConstraint
      ).joined(separator: ",")
      guard header.isEmpty || header == expected else {
        throw CommandError.usage(
          "--metrics \(path) has the columns '\(header)' but this run writes '\(expected)'; use a new file"
        )
      }
    }
    self.handle = handle
    handle.seekToEndOfFile()
    if isNew && isCSV {
      let header = Self.keys(
        siteNames, traffic: recordsTraffic, siteConstraint: recordsSiteConstraint)
      handle.write(Data((header.joined(separator: ",") + "\n").utf8))
    }
  }

  static func keys(_ siteNames: [String], traffic: Bool = false, siteConstraint: Bool = false)
    -> [String]
  {
    [
      "round", "rollout/mean_return", "rollout/target_attainment", "rollout/environment_steps",
      "time/steps_per_second", "time/seconds", "federation/accepted_sites",
      "federation/rejected_sites", "rollout/mean_cost", "safety/cost_multiplier",
      "federation/sampled_sites", "federation/dropped_sites", "federation/skipped_round",
      "privacy/epsilon", "privacy/clip_norm",
    ]
      + siteNames.map { "sites/\($0)/target_attainment" }
      + (traffic
        ? siteNames.flatMap { ["network/\($0)/bytes_sent", "network/\($0)/bytes_received"] } : [])
      + (siteConstraint
        ? siteNames.flatMap {
          ["sites/\($0)/cost_multiplier", "sites/\($0)/greedy_cost", "sites/\($0)/weight_factor"]
        } : [])
  }

  func values(_ record: RoundRecord, traffic: [String: SiteTraffic]? = nil) -> [Double] {
    let rollout: [Double] = [
      Double(record.round), record.meanEpisodeReturn ?? .nan, record.targetAttainment ?? .nan,
      Double(record.environmentSteps), record.stepsPerSecond, record.secondsElapsed,
      Double(record.acceptedSites), Double(record.rejectedSites),
      record.meanEpisodeCost ?? .nan, record.costMultiplier ?? .nan,
    ]
    let participation: [Double] = [
      Double(record.sampledSites ?? record.sites.count), Double(record.droppedSites ?? 0),
      record.skipReason == nil ? 0 : 1,
    ]
    let privacy: [Double] = [record.privacyEpsilon ?? .nan, record.clipNorm ?? .nan]
    let perSite = siteNames.map { name in
      record.sites.first { $0.site == name }?.targetAttainment ?? .nan
    }
    let bytes: [Double] =
      recordsTraffic
      ? siteNames.flatMap { name -> [Double] in
        guard let counts = traffic?[name] else { return [.nan, .nan] }
        return [Double(counts.bytesSent), Double(counts.bytesReceived)]
      } : []
    let constraint: [Double] =
      recordsSiteConstraint
      ? siteNames.flatMap { name -> [Double] in
        guard let site = record.sites.first(where: { $0.site == name }) else {
          return [.nan, .nan, .nan]
        }
        return [
          site.costMultiplier ?? .nan, site.greedyEpisodeCost ?? .nan, site.weightFactor ?? .nan,
        ]
      } : []
    return rollout + participation + privacy + perSite + bytes + constraint
  }

  /// Writes whole numbers (rounds, counts) without a fractional part and
  /// every other value in Swift's shortest round-trip form.
  static func format(_ value: Double) -> String {
    if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return "\(Int(value))" }
    return "\(value)"
  }

  /// Appends one round; `traffic` fills the byte columns of a network run.
  func append(_ record: RoundRecord, traffic: [String: SiteTraffic]? = nil) throws {
    let keys = Self.keys(siteNames, traffic: recordsTraffic, siteConstraint: recordsSiteConstraint)
    let values = values(record, traffic: traffic)
    let line: String
    if isCSV {
      line = values.map { $0.isNaN ? "" : Self.format($0) }.joined(separator: ",")
    } else {
      let fields = zip(keys, values).map { key, value in
        "\"\(key)\": " + (value.isNaN ? "null" : Self.format(value))
      }
      line = "{" + fields.joined(separator: ", ") + "}"
    }
    handle.write(Data((line + "\n").utf8))
  }
}
