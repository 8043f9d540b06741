import Foundation
import TitrateFederation

/// The update compression options of `titrate site`, `train` and
/// `aggregator`.
enum UpdateCompressionOptions {
  static let schemeForms = "none|float16|int8[:BLOCK]|topk:FRACTION"

  /// `titrate site`: how this site encodes its deltas.
  static let site = OptionSpecification(
    name: "update-compression", valueName: schemeForms,
    help: "encoding of the deltas this site sends, with error feedback for the lossy ones: "
      + "Float64 bit for bit; Float16 (a quarter of the bytes); int8 with one Float32 scale per "
      + "BLOCK values (default 256; about an eighth); or the FRACTION of largest magnitude as "
      + "index and Float32 value. Lossy schemes change the model",
    defaultValue: "none")

  /// `titrate train`: the same encodings, simulated in the aggregator's
  /// process.
  static let train = OptionSpecification(
    name: "update-compression", valueName: schemeForms,
    help: "apply this site encoding and its error feedback to every site's delta, as network "
      + "sites with 'titrate site --update-compression' would (in process and over MPI). The "
      + "checkpoint stores the encoding, which --resume keeps, but not the residuals, so "
      + "resumed sites restart with zero residuals",
    defaultValue: "none")

  /// `titrate aggregator`: the encodings it accepts from sites.
  static let accept = OptionSpecification(
    name: "accept-compression", valueName: "LIST",
    help: "comma-separated update encodings accepted from sites (none, float16, int8, topk); a "
      + "site announcing another is rejected when it joins",
    defaultValue: "none,float16,int8,topk")

  /// Reads `--update-compression`.
  static func parse(_ parsed: ParsedOptions) throws -> UpdateCompression {
    let text = try parsed.requiredString("update-compression")
    do {
      return try UpdateCompression(parsing: text)
    } catch let error as UpdateCompressionError {
      throw CommandError.usage("--update-compression: \(error)")
    }
  }

  /// Reads `--update-compression` of `titrate train` and rejects a lossy
  /// encoding under secure aggregation, as a network site does, because
  /// the masked inputs are quantised already. It also rejects one with
  /// `--mpi-updates reduce`, because the encoding is applied to the
  /// updates that rank 0 gathers, and the reduced path gathers none.
  static func parse(
    _ parsed: ParsedOptions, configuration: FederationConfiguration
  ) throws -> UpdateCompression {
    let compression = try parse(parsed)
    try checkCombination(compression, parsed, configuration: configuration)
    return compression
  }

  /// Rejects a lossy `compression` under secure aggregation or with
  /// `--mpi-updates reduce`, for the reasons `parse(_:configuration:)`
  /// gives.
  static func checkCombination(
    _ compression: UpdateCompression, _ parsed: ParsedOptions,
    configuration: FederationConfiguration
  ) throws {
    guard compression != .none else { return }
    if configuration.secureAggregation != nil {
      throw CommandError.usage(
        "--update-compression \(compression.name) cannot be combined with secure aggregation, "
          + "whose masked inputs are already quantised (--secagg-quantization-bits); network "
          + "sites reject the pair as well, so remove --update-compression")
    }
    if parsed.string("transport") == "mpi" && parsed.string("mpi-updates") == "reduce" {
      throw CommandError.usage(
        "--update-compression \(compression.name) cannot be combined with --mpi-updates "
          + "reduce: the encoding is simulated on the updates rank 0 gathers, and reduce sums "
          + "them on the ranks instead; use --mpi-updates gather or remove "
          + "--update-compression")
    }
  }

  /// Returns the encoding of a `titrate train` run: the one its
  /// configuration stores, which a resumed run keeps. A checkpoint written
  /// before Titrate stored it records none, so `--update-compression` then
  /// applies as given.
  /// - Throws: `CommandError.usage` when `--update-compression` names
  ///   another encoding than the stored one.
  static func resolve(
    _ parsed: ParsedOptions, configuration: FederationConfiguration, checkpointPath: String?
  ) throws -> UpdateCompression {
    guard let stored = configuration.updateCompression else {
      return try parse(parsed, configuration: configuration)
    }
    if parsed.explicitOptions.contains("update-compression") {
      let requested = try parse(parsed)
      guard requested == stored else {
        throw CommandError.usage(
          "--update-compression \(requested.name) differs from the \(stored.name) encoding "
            + "stored in \(checkpointPath ?? "the checkpoint"), which the resumed run keeps; "
            + "omit --update-compression to continue with \(stored.name), or start a new run "
            + "to change it")
      }
    }
    try checkCombination(stored, parsed, configuration: configuration)
    return stored
  }

  /// Reads `--accept-compression`.
  static func parseAccepted(_ parsed: ParsedOptions) throws -> Set<UpdateCompression.Scheme> {
    let names = try parsed.list("accept-compression") ?? []
    var schemes = Set<UpdateCompression.Scheme>()
    for name in names {
      guard let scheme = UpdateCompression.Scheme(rawValue: name) else {
        throw CommandError.usage(
          "--accept-compression: unknown encoding '\(name)'; list some of none, float16, int8, "
            + "topk (without parameters)")
      }
      schemes.insert(scheme)
    }
    guard !schemes.isEmpty else {
      throw CommandError.usage("--accept-compression lists no encoding; name at least one")
    }
    return schemes
  }

  /// Wraps the trainer's transport in a `CompressingTransport` unless
  /// `--update-compression` is `none`.
  static func install(_ compression: UpdateCompression, _ trainer: FederatedTrainer, quiet: Bool) {
    guard compression != .none else { return }
    trainer.transport = CompressingTransport(inner: trainer.transport, compression: compression)
    if !quiet {
      print(summary(compression, parameterCount: trainer.globalParameters.count))
    }
  }

  /// Describes the bytes per delta under `compression` in one line.
  static func summary(_ compression: UpdateCompression, parameterCount: Int) -> String {
    let full = UpdateCompression.none.encodedDeltaBytes(parameterCount: parameterCount)
    let encoded = compression.encodedDeltaBytes(parameterCount: parameterCount)
    return String(
      format: "update compression %@ with error feedback: %d parameters take %d bytes per "
        + "delta instead of %d as Float64 (%.1fx smaller)",
      compression.name, parameterCount, encoded, full, Double(full) / Double(encoded))
  }
}

extension TrainCommand {
  /// Returns the options of `titrate train` that a host command takes. A
  /// network aggregator leaves out `--update-compression`, because each
  /// of its sites chooses its own encoding (`--accept-compression`
  /// restricts them).
  static func trainOptions(host: TrainingHost?) -> [OptionSpecification] {
    host == nil ? options : options.filter { $0.name != UpdateCompressionOptions.train.name }
  }
}
