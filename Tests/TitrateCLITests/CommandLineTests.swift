import Foundation
import Testing

@testable import TitrateCheckpoint

/// End-to-end runs of the `titrate` executable with tiny budgets: exit
/// codes, pinned error text and the files each command writes.
@Suite(.serialized) struct CommandLineTests {
  static let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  struct Run {
    var status: Int32
    var output: String
    var errors: String
  }

  /// The executable built next to the test bundle (`.build/<config>/titrate`).
  static var executable: URL {
    var directory = Bundle.main.bundleURL
    if directory.pathExtension == "xctest" { directory.deleteLastPathComponent() }
    let candidate = directory.appendingPathComponent("titrate")
    if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
    return repositoryRoot.appendingPathComponent(".build/debug/titrate")
  }

  func titrate(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
    let process = Process()
    process.executableURL = Self.executable
    process.arguments = arguments
    if !environment.isEmpty {
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    process.currentDirectoryURL = Self.repositoryRoot
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Run(
      status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
      errors: String(decoding: errorData, as: UTF8.self))
  }

  /// Returns the shipped vancomycin definition as a JSON object tree, for
  /// tests that write an edited copy.
  static func shippedVancomycinTree() throws -> [String: Any] {
    let source = repositoryRoot.appendingPathComponent("Environments/vancomycin.json")
    return try JSONSerialization.jsonObject(with: Data(contentsOf: source)) as! [String: Any]
  }

  func temporaryFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "titrate-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
  }

  static let tinyTraining = [
    "--sites", "2", "--patients-per-site", "16", "--minibatch-size", "32", "--update-epochs", "2",
    "--hidden-sizes", "16,16", "--checkpoint-every", "0",
  ]

  @Test func helpListsCommands() throws {
    let run = try titrate(["--help"])
    #expect(run.status == 0)
    for command in ["train", "evaluate", "simulate", "inspect", "environments", "bench"] {
      #expect(run.output.contains("  \(command) "), "help should list \(command)")
    }
  }

  @Test func everyCommandHasHelp() throws {
    for command in ["train", "evaluate", "simulate", "inspect", "environments", "bench"] {
      let run = try titrate([command, "--help"])
      #expect(run.status == 0, "\(command) --help")
      #expect(run.output.hasPrefix("usage: titrate \(command)"), "\(command) --help")
    }
  }

  @Test func unknownCommandIsUsageError() throws {
    let run = try titrate(["trian"])
    #expect(run.status == 2)
    #expect(run.errors.contains("unknown command 'trian'"))
  }

  @Test func unknownOptionNamesItAndTheHelp() throws {
    let run = try titrate(["train", "--round", "3"])
    #expect(run.status == 2)
    #expect(
      run.errors.contains(
        "unknown option '--round' for 'titrate train'; run 'titrate train --help' for the options"))
  }

  @Test func multiplierWeightingNeedsAPerSiteLimit() throws {
    let unconstrained = try titrate(
      ["train", "--weight-by-multiplier", "--output", "/tmp/unused.h5"])
    #expect(unconstrained.status == 2)
    #expect(
      unconstrained.errors.contains(
        "--weight-by-multiplier only applies to a constrained run; add --cost-limit C"))
    let pooled = try titrate(
      ["train", "--cost-limit", "0.05", "--weight-by-multiplier", "--output", "/tmp/unused.h5"])
    #expect(pooled.status == 2)
    #expect(pooled.errors.contains("set perSite (--per-site-limit) or remove it"))
    let unweighted = try titrate([
      "train", "--cost-limit", "0.05", "--per-site-limit", "--advantage-scaled-weights",
      "--output", "/tmp/unused.h5",
    ])
    #expect(unweighted.status == 2)
    #expect(unweighted.errors.contains("set weightUpdatesByMultiplier (--weight-by-multiplier)"))
  }

  @Test func greedyCostWithoutEdgePatientsNeedsEdgePatients() throws {
    let run = try titrate([
      "train", "--cost-limit", "0.05", "--constrain-greedy-policy",
      "--greedy-cost-without-edge-patients", "--output", "/tmp/unused.h5",
    ])
    #expect(run.status == 2)
    #expect(run.errors.contains("the run draws none; add them (--edge-patients)"))
    // Environments without edge patients reject the flag itself, since
    // --edge-patients does not apply to them either.
    let glucose = try titrate([
      "train", "--environment", "Environments/pkpd/glucose.json", "--cost-limit", "0.05",
      "--constrain-greedy-policy", "--greedy-cost-without-edge-patients", "--output",
      "/tmp/unused.h5",
    ])
    #expect(glucose.status == 2)
    #expect(
      glucose.errors.contains(
        "--greedy-cost-without-edge-patients does not apply to the glucose environment"))
  }

  /// `inspect` prints the stored cost constraint with its weighting, and
  /// the metrics file has each site's multiplier, greedy cost and factor.
  @Test func inspectShowsTheCostConstraint() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let run = folder.appendingPathComponent("run.h5").path
    let metrics = folder.appendingPathComponent("metrics.csv")
    let trained = try titrate(
      [
        "train", "--rounds", "2", "--output", run, "--quiet", "--cost-limit", "0.05",
        "--per-site-limit", "--weight-by-multiplier", "--advantage-scaled-weights",
        "--log-cost-error", "--proportional-gain", "2", "--constrain-greedy-policy",
        "--metrics", metrics.path,
      ] + Self.tinyTraining)
    #expect(trained.status == 0, "\(trained.errors)")
    let lines = try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 3)
    let header = lines[0].split(separator: ",").map(String.init)
    let row = lines[2].split(separator: ",", omittingEmptySubsequences: false)
    for site in ["elderly_renal", "haematology"] {
      for (column, lowest) in [("cost_multiplier", 0.0), ("greedy_cost", 0), ("weight_factor", 0)] {
        let index = try #require(header.firstIndex(of: "sites/\(site)/\(column)"))
        let value = try #require(Double(row[index]), "\(site) \(column): '\(row[index])'")
        #expect(value >= lowest)
      }
      let factor = try #require(header.firstIndex(of: "sites/\(site)/weight_factor"))
      #expect(Double(row[factor])! > 0)
    }
    let inspected = try titrate(["inspect", run])
    #expect(inspected.status == 0, "\(inspected.errors)")
    #expect(
      inspected.output.contains("cost limit 0.05 per episode at every site of the greedy policy; "))
    #expect(inspected.output.contains("K_P 2.0 on ln(cost / limit)"))
    #expect(inspected.output.contains("updates weighted by (1 + multiplier) x advantage spread"))
  }

  @Test func malformedNumberNamesValueAndRange() throws {
    let run = try titrate(["train", "--rounds", "ten", "--output", "/tmp/unused.h5"])
    #expect(run.status == 2)
    #expect(
      run.errors.contains("--rounds 'ten' is not an integer; give a whole number in 1...100000"))
    let outOfRange = try titrate(["train", "--sites", "0", "--output", "/tmp/unused.h5"])
    #expect(outOfRange.status == 2)
    #expect(outOfRange.errors.contains("--sites 0 is out of range; give a value in 1...64"))
  }

  @Test func outputIsCheckedBeforeTraining() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let existing = folder.appendingPathComponent("existing.h5")
    try Data("keep".utf8).write(to: existing)
    let rejected = try titrate(["train", "--rounds", "1", "--output", existing.path])
    #expect(rejected.status == 2)
    #expect(rejected.errors.contains("exists; add --overwrite to replace it"))
    #expect(try String(contentsOf: existing, encoding: .utf8) == "keep")
    let missingFolder = folder.appendingPathComponent("no/such/folder/run.h5").path
    let noFolder = try titrate(["train", "--rounds", "1", "--output", missingFolder])
    #expect(noFolder.status == 2)
    #expect(noFolder.errors.contains("not found; create it first"))
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("no").path))
    let isFolder = try titrate(["train", "--rounds", "1", "--output", folder.path])
    #expect(isFolder.status == 2)
    #expect(isFolder.errors.contains("is a folder; give a file path"))
    let noOutput = try titrate(["train", "--rounds", "1"])
    #expect(noOutput.status == 2)
    #expect(noOutput.errors.contains("needs '--output FILE'"))
  }

  @Test func metricsFilesAppendAndCheckColumns() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let jsonl = folder.appendingPathComponent("metrics.jsonl").path
    let csv = folder.appendingPathComponent("metrics.csv").path
    for (index, metrics) in [jsonl, csv].enumerated() {
      let run = try titrate(
        [
          "train", "--rounds", "2", "--metrics", metrics, "--output",
          folder.appendingPathComponent("run\(index).h5").path,
        ] + Self.tinyTraining)
      #expect(run.status == 0, "\(run.errors)")
    }
    let lines = try String(contentsOfFile: jsonl, encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 2)
    struct Record: Decodable {
      var round: Double
      var targetAttainment: Double?
      enum CodingKeys: String, CodingKey {
        case round
        case targetAttainment = "rollout/target_attainment"
      }
    }
    let records = try lines.map { try JSONDecoder().decode(Record.self, from: Data($0.utf8)) }
    #expect(records.map(\.round) == [1, 2])
    // Whole numbers (round, steps, sites) are written without ".0".
    let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
    #expect(rows[1].hasPrefix("1,"))
    #expect(lines[0].hasPrefix("{\"round\": 1,"))
    // A one-site run cannot append to the two-site CSV.
    let mismatched = try titrate(
      [
        "train", "--rounds", "1", "--sites", "1", "--metrics", csv, "--output",
        folder.appendingPathComponent("other.h5").path, "--patients-per-site", "8",
      ])
    #expect(mismatched.status == 2)
    #expect(mismatched.errors.contains("use a new file"))
  }

  @Test func repeatedOptionIsRejected() throws {
    let run = try titrate(["simulate", "--dose-mg", "1000", "--age", "70", "--age", "80"])
    #expect(run.status == 2)
    #expect(run.errors.contains("option '--age' is given twice"))
  }

  @Test func missingEnvironmentListsKnownOnes() throws {
    let run = try titrate(
      ["train", "--environment", "vancomicin", "--output", "/tmp/titrate-unused.h5"])
    #expect(run.status == 3)
    #expect(run.errors.contains("environment 'vancomicin' not found"))
    #expect(run.errors.contains("known environments: vancomycin"))
  }

  @Test func malformedEnvironmentFileNamesTheField() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let source = Self.repositoryRoot.appendingPathComponent("Environments/vancomycin.json")
    var text = try String(contentsOf: source, encoding: .utf8)
    text = text.replacingOccurrences(
      of: "\"maximumSingleDoseMilligrams\": 3000", with: "\"maximumSingleDoseMilligrams\": -5")
    let broken = folder.appendingPathComponent("broken.json")
    try text.write(to: broken, atomically: true, encoding: .utf8)
    let run = try titrate(
      [
        "train", "--environment", broken.path, "--rounds", "1", "--output",
        folder.appendingPathComponent("unused.h5").path,
      ])
    #expect(run.status == 3)
    #expect(run.errors.contains("actuatorLimits.maximumSingleDoseMilligrams"))
  }

  @Test func trainEvaluateInspectRoundTrip() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = folder.appendingPathComponent("tiny.h5").path
    let metrics = folder.appendingPathComponent("metrics.csv").path
    let train = try titrate(
      ["train", "--rounds", "2", "--output", checkpoint, "--metrics", metrics] + Self.tinyTraining)
    #expect(train.status == 0, "\(train.errors)")
    #expect(train.output.contains("round 1/2"))
    #expect(train.output.contains("round 2/2"))
    let csv = try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n")
    #expect(csv.count == 3)
    #expect(csv.first?.hasPrefix("round,rollout/mean_return,rollout/target_attainment") == true)

    let inspect = try titrate(["inspect", checkpoint])
    #expect(inspect.status == 0)
    #expect(inspect.output.contains("rounds completed 2 of 2"))
    #expect(inspect.output.contains("policy network 29x16 -> 16x16 -> 16x13"))

    let evaluate = try titrate(["evaluate", checkpoint, "--patients", "200", "--json"])
    #expect(evaluate.status == 0, "\(evaluate.errors)")
    let report = try JSONDecoder().decode(
      EvaluationReport.self, from: Data(evaluate.output.utf8))
    #expect(report.cohorts.map(\.name) == ["elderly_renal", "haematology", "pooled"])
    let pooled = try #require(report.cohorts.last)
    #expect(pooled.summaries.map(\.policy) == ["learned", "guideline", "oracle", "bayesian"])
    #expect(pooled.summaries.allSatisfy { $0.patients == 400 })
    // The oracle doses from each patient's true PK parameters.
    let oracle = try #require(pooled.summaries.last)
    #expect(Double(oracle.targetAttainment.events) / 400 > 0.9)
  }

  @Test func shippedCheckpointBeatsTheGuideline() throws {
    // The reference checkpoint written by `make run`; evaluated on held-out
    // patients with the environment definition stored inside it.
    let checkpoint = Self.repositoryRoot.appendingPathComponent(
      "Checkpoints/vancomycin-4site.h5")
    let run = try titrate(["evaluate", checkpoint.path, "--patients", "400", "--json"])
    #expect(run.status == 0, "\(run.errors)")
    let report = try JSONDecoder().decode(EvaluationReport.self, from: Data(run.output.utf8))
    let pooled = try #require(report.cohorts.first { $0.name == "pooled" })
    let learned = try #require(pooled.summaries.first { $0.policy == "learned" })
    let guideline = try #require(pooled.summaries.first { $0.policy == "guideline" })
    func fraction(_ share: EvaluationReport.Share) -> Double {
      Double(share.events) / Double(share.total)
    }
    #expect(learned.targetAttainment.total == 1600)
    // Measured with 5,000 patients per site: learned 0.681, guideline 0.270
    // in day-3 attainment, and 0.020 against 0.443 toxic troughs
    // (Docs/benchmarks.md). With 1,600 patients each rate has a standard
    // error of at most 0.013, so these bounds leave several of them.
    #expect(fraction(learned.targetAttainment) > fraction(guideline.targetAttainment) + 0.25)
    #expect(fraction(learned.anyTroughAboveLimit) < 0.05)
    #expect(fraction(learned.anyTroughAboveLimit) < fraction(guideline.anyTroughAboveLimit))
    #expect(learned.patientsClamped == 0)
  }

  /// A monotone policy passes the clinical sanity properties by
  /// construction, even after two rounds of training, and the option is
  /// refused for an environment that defines no monotone entries.
  @Test func monotonePolicyPassesSanityChecks() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = folder.appendingPathComponent("monotone.h5").path
    let train = try titrate(
      ["train", "--rounds", "2", "--output", checkpoint, "--monotone-policy", "--quiet"]
        + Self.tinyTraining)
    #expect(train.status == 0, "\(train.errors)")
    let verify = try titrate(["verify", checkpoint, "--patients", "32"])
    let sanity = verify.output.split(separator: "\n").filter { $0.contains("clinicalSanity.") }
    #expect(sanity.count == 3)
    for line in sanity {
      #expect(line.contains("PASS"), "\(line)")
      #expect(line.contains(" 0 of "), "\(line)")
    }

    let warfarin = try titrate([
      "train", "--environment", "Environments/pkpd/warfarin.json", "--rounds", "1",
      "--output", folder.appendingPathComponent("w.h5").path, "--monotone-policy",
    ])
    #expect(warfarin.status == 2)
    #expect(warfarin.errors.contains("--monotone-policy does not apply"))
  }

  /// A drug defined only as data (the linear kind, gentamicin) trains,
  /// reporting its cycles in target and toxic troughs each round, and
  /// evaluates next to its Hartford baseline, and verify runs its checks.
  @Test func linearDrugTrainsAndEvaluates() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = folder.appendingPathComponent("gentamicin.h5").path
    let metrics = folder.appendingPathComponent("metrics.jsonl").path
    let train = try titrate([
      "train", "--environment", "Environments/pkpd/gentamicin.json", "--sites", "1",
      "--patients-per-site", "8", "--rounds", "1", "--output", checkpoint, "--metrics", metrics,
    ])
    #expect(train.status == 0, "\(train.errors)")
    let progress = train.output.split(separator: "\n").first { $0.hasPrefix("round 1/1") } ?? ""
    #expect(progress.firstMatch(of: #/cycles in target [01]\.\d{3} /#) != nil, "\(train.output)")
    #expect(progress.firstMatch(of: #/toxic troughs [01]\.\d{3} /#) != nil, "\(train.output)")
    let record = try String(contentsOfFile: metrics, encoding: .utf8)
    #expect(!record.contains("\"rollout/target_attainment\": null"), "\(record)")
    let evaluate = try titrate(["evaluate", checkpoint, "--patients", "16"])
    #expect(evaluate.status == 0, "\(evaluate.errors)")
    #expect(evaluate.output.contains("hartford"), "\(evaluate.output)")
    let verify = try titrate(["verify", checkpoint, "--patients", "16", "--policy", "hartford"])
    #expect(verify.status == 0 || verify.status == 4, "\(verify.errors)")
    #expect(verify.output.contains("PASS  hardLimits.dose"), "\(verify.output)")
  }

  /// The guideline fails the exposure checks of the safety suite: exit
  /// code 4 and one FAIL line naming the measured rate and the limit.
  @Test func verifyFailsAnUnsafePolicyWithExitFour() throws {
    let checkpoint = Self.repositoryRoot.appendingPathComponent(
      "Checkpoints/vancomycin-4site.h5")
    let run = try titrate([
      "verify", checkpoint.path, "--policy", "guideline", "--patients", "64",
    ])
    #expect(run.status == 4, "\(run.errors)")
    let failures = run.output.split(separator: "\n").filter { $0.contains("FAIL") }
    #expect(failures.contains { $0.contains("toxicTrough") && $0.contains("limit 5.0%") })
    // Hard limits hold for every policy: the actuator enforces them.
    let hardLimit = run.output.split(separator: "\n").filter { $0.contains("hardLimits.") }
    #expect(hardLimit.count == 6)
    #expect(hardLimit.allSatisfy { $0.contains("PASS") })

    let bad = try titrate(["verify", checkpoint.path, "--patients", "0"])
    #expect(bad.status == 2)
    #expect(bad.errors.contains("--patients"))
  }

  /// The evaluation report lists each exposure threshold and the learned
  /// policy's worst patients, and writes their plot.
  @Test func evaluateReportsSafetyAndWorstPatients() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = Self.repositoryRoot.appendingPathComponent(
      "Checkpoints/vancomycin-4site.h5")
    let svg = folder.appendingPathComponent("worst.svg")
    let run = try titrate([
      "evaluate", checkpoint.path, "--patients", "50", "--worst", "2", "--worst-svg", svg.path,
    ])
    #expect(run.status == 0, "\(run.errors)")
    #expect(run.output.contains("worst patients of the learned policy"))
    #expect(run.output.contains("doses mg: "))
    #expect(run.output.contains("shield: 0 doses lowered"))
    let plot = try String(contentsOf: svg, encoding: .utf8)
    #expect(plot.contains("<svg"))
    #expect(plot.contains("trough limit 20 mg/L"))
  }

  /// A checkpoint written with the 28-entry observation rows of version
  /// 0.1.0 gets an input error (exit 3) from every command that doses.
  @Test func oldObservationLayoutIsRejected() throws {
    let checkpoint = Self.repositoryRoot.appendingPathComponent(
      "Tests/Fixtures/checkpoints/vancomycin-layout-0.1.h5"
    ).path
    let commands = [
      ["evaluate", checkpoint, "--patients", "10"], ["verify", checkpoint, "--patients", "10"],
      ["simulate", "--checkpoint", checkpoint],
    ]
    for command in commands {
      let run = try titrate(command)
      #expect(run.status == 3, "\(command[0]): \(run.errors)")
      #expect(run.errors.contains("takes 28 observation entries"), "\(command[0]): \(run.errors)")
    }
  }

  /// `--baselines bayesian` adds MAP-guided dosing to a checkpoint whose
  /// definition predates the baseline, and a lower target gives lower
  /// doses. Out-of-range targets and unknown names are rejected with the fix.
  /// Output paths of evaluate are checked before the evaluation runs, so
  /// a bad one prints no table.
  @Test func evaluateChecksOutputPathsFirst() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = "Checkpoints/vancomycin-4site.h5"
    let rows = folder.appendingPathComponent("rows.csv").path
    let same = try titrate([
      "evaluate", checkpoint, "--patients", "20", "--worst", "1", "--patients-csv", rows,
      "--worst-svg", folder.path + "/./rows.csv",
    ])
    #expect(same.status == 2)
    #expect(same.errors.contains("--patients-csv and --worst-svg both name"), "\(same.errors)")
    #expect(same.output.isEmpty)
    #expect(!FileManager.default.fileExists(atPath: rows))

    let missing = try titrate([
      "evaluate", checkpoint, "--patients", "20", "--patients-csv",
      folder.path + "/absent/rows.csv",
    ])
    #expect(missing.status == 2)
    #expect(missing.errors.contains("not found; create it first"), "\(missing.errors)")
    #expect(missing.output.isEmpty)

    let noWorst = try titrate([
      "evaluate", checkpoint, "--patients", "20", "--worst", "0", "--worst-svg",
      folder.appendingPathComponent("worst.svg").path,
    ])
    #expect(noWorst.status == 2)
    #expect(noWorst.errors.contains("--worst-svg needs worst patients; give --worst 1 or more"))
    #expect(noWorst.output.isEmpty)
  }

  /// Options that would have no effect are rejected rather than ignored.
  @Test func ignoredOptionsAreRejected() throws {
    let verify = try titrate([
      "verify", "Checkpoints/vancomycin-4site.h5", "--patients", "10", "--environment",
      "nonexistent",
    ])
    #expect(verify.status == 2)
    #expect(verify.errors.contains("this checkpoint's has them; remove --environment"))
    let version = try titrate(["version", "--foo"])
    #expect(version.status == 2)
    #expect(version.errors.contains("'titrate version' takes no arguments; remove '--foo'"))
    #expect(version.output.isEmpty)
  }

  @Test func evaluateRunsTheBayesianBaseline() throws {
    let checkpoint = Self.repositoryRoot.appendingPathComponent(
      "Checkpoints/vancomycin-4site.h5")
    func pooledBayesian(_ extra: [String]) throws -> [String: Any] {
      let run = try titrate(
        ["evaluate", checkpoint.path, "--patients", "40", "--baselines", "bayesian", "--json"]
          + extra)
      #expect(run.status == 0, "\(run.errors)")
      let report = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as! [String: Any]
      let pooled = try #require((report["cohorts"] as! [[String: Any]]).last)
      let summaries = pooled["summaries"] as! [[String: Any]]
      #expect(summaries.map { $0["policy"] as? String } == ["learned", "bayesian"])
      return summaries[1]
    }
    let standard = try pooledBayesian([])
    let lower = try pooledBayesian(["--bayesian-target-auc", "350"])
    let standardDose = try #require(standard["meanTotalDoseMilligrams"] as? Double)
    let lowerDose = try #require(lower["meanTotalDoseMilligrams"] as? Double)
    #expect(lowerDose < standardDose)

    let range = try titrate(["evaluate", checkpoint.path, "--bayesian-target-auc", "50"])
    #expect(range.status == 2)
    #expect(range.errors.contains("--bayesian-target-auc"))
    let unknown = try titrate(["evaluate", checkpoint.path, "--baselines", "bayes"])
    #expect(unknown.status == 2)
    #expect(unknown.errors.contains("use guideline, oracle, bayesian or none"))
  }

  /// A site's own covariate cohort replaces its sampled covariates; a bad
  /// row is rejected with its line, column and the accepted range.
  @Test func evaluateUsesASiteCohort() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = Self.repositoryRoot.appendingPathComponent(
      "Checkpoints/vancomycin-4site.h5")
    let header =
      "ageYears,weightKilograms,female,serumCreatinineMilligramsPerDeciliter,haemodialysis"
    let good = folder.appendingPathComponent("good.csv")
    try "\(header)\n44,150,1,0.9,0\n".write(to: good, atomically: true, encoding: .utf8)
    let run = try titrate([
      "evaluate", checkpoint.path, "--patients", "20", "--cohort", "obese=\(good.path)",
      "--baselines", "none", "--worst", "1", "--json",
    ])
    #expect(run.status == 0, "\(run.errors)")
    let report = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as! [String: Any]
    let cohorts = report["cohorts"] as! [[String: Any]]
    let obese = try #require(cohorts.first { $0["name"] as? String == "obese" })
    let worst = try #require((obese["worstCases"] as? [[String: Any]])?.first)
    #expect(worst["weightKilograms"] as? Double == 150)
    #expect(worst["ageYears"] as? Double == 44)

    let bad = folder.appendingPathComponent("bad.csv")
    try "\(header)\n44,150,1,0.9,0\n400,80,0,1,0\n".write(
      to: bad, atomically: true, encoding: .utf8)
    let rejected = try titrate(["evaluate", checkpoint.path, "--cohort", "obese=\(bad.path)"])
    #expect(rejected.status == 3)
    #expect(rejected.errors.contains("line 3, column ageYears is 400 years"))
  }

  /// A site trains on its own cohort; the checkpoint keeps only the file's
  /// hash, and a resumed run needs the same file for that site.
  @Test func trainingCohortIsCheckedOnResume() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let header =
      "ageYears,weightKilograms,female,serumCreatinineMilligramsPerDeciliter,haemodialysis"
    let cohort = folder.appendingPathComponent("site.csv")
    try "\(header)\n70,65,1,1.6,0\n55,90,0,1.1,0\n".write(
      to: cohort, atomically: true, encoding: .utf8)
    let other = folder.appendingPathComponent("other.csv")
    try "\(header)\n70,66,1,1.6,0\n".write(to: other, atomically: true, encoding: .utf8)
    let run = folder.appendingPathComponent("run.h5")
    let first = try titrate(
      [
        "train", "--rounds", "2", "--pause-after", "1", "--output", run.path, "--quiet",
        "--cohort", "elderly_renal=\(cohort.path)",
      ] + Self.tinyTraining)
    #expect(first.status == 0, "\(first.errors)")
    // The stored configuration names the hash; no cohort row is in the file.
    let bytes = String(decoding: try Data(contentsOf: run), as: UTF8.self)
    #expect(bytes.contains("cohortSHA256"))
    #expect(!bytes.contains("70,65,1,1.6"))

    let missing = try titrate(["train", "--resume", run.path, "--output", run.path])
    #expect(missing.status == 2)
    #expect(missing.errors.contains("pass the same file again with --cohort elderly_renal=FILE"))
    let changed = try titrate(
      [
        "train", "--resume", run.path, "--output", run.path, "--cohort",
        "elderly_renal=\(other.path)",
      ])
    #expect(changed.status == 3)
    #expect(changed.errors.contains("differs from the"))
    let resumed = try titrate(
      [
        "train", "--resume", run.path, "--output", run.path, "--quiet",
        "--cohort", "elderly_renal=\(cohort.path)",
      ])
    #expect(resumed.status == 0, "\(resumed.errors)")
  }

  @Test func blasKernelIsStoredAndCompared() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let run = folder.appendingPathComponent("run.h5").path
    // Prescott is OpenBLAS's SSE3 kernel, which every x86-64 CPU can run.
    let pinned = ["OPENBLAS_CORETYPE": "Prescott"]
    let first = try titrate(
      ["train", "--rounds", "2", "--pause-after", "1", "--output", run, "--quiet"]
        + Self.tinyTraining, environment: pinned)
    #expect(first.status == 0, "\(first.errors)")
    let inspected = try titrate(["inspect", run], environment: pinned)
    #expect(inspected.output.contains("OpenBLAS kernel Prescott, this machine's Prescott"))

    // Checkpoints written before the kernel was stored lack the entry:
    // inspect prints "not recorded", and resuming them prints no kernel warning.
    let url = URL(fileURLWithPath: run)
    var contents = try CheckpointFile.read(from: url)
    #expect(contents["training/blas_kernel"] != nil)
    contents["training/blas_kernel"] = nil
    let older = folder.appendingPathComponent("older.h5")
    try CheckpointFile.write(contents, to: older)
    let olderInspected = try titrate(["inspect", older.path])
    #expect(olderInspected.status == 0, "\(olderInspected.errors)")
    #expect(olderInspected.output.contains("OpenBLAS kernel not recorded, this machine's"))
    let olderResumed = try titrate(
      ["train", "--resume", older.path, "--output", older.path, "--quiet"])
    #expect(olderResumed.status == 0, "\(olderResumed.errors)")
    #expect(!olderResumed.errors.contains("warning"))
    // The resumed run writes this machine's kernel into the file.
    let olderAfter = try titrate(["inspect", older.path])
    #expect(!olderAfter.output.contains("not recorded"))

    let unpinned = try titrate(["inspect", run])
    let resumed = try titrate(["train", "--resume", run, "--output", run, "--quiet"])
    #expect(resumed.status == 0, "\(resumed.errors)")
    if unpinned.output.contains("this machine's Prescott") {
      #expect(!resumed.errors.contains("warning"))
    } else {
      #expect(resumed.errors.contains("was trained with OpenBLAS's Prescott kernel"))
      #expect(resumed.errors.contains("set OPENBLAS_CORETYPE=Prescott to use the same kernel"))
    }

    // The shipped checkpoint records the kernel of the machine that
    // trained it (an AMD EPYC with AVX-512, where OpenBLAS 0.3.21 picks
    // its Cooperlake kernels).
    let shipped = try titrate(["inspect", "Checkpoints/vancomycin-4site.h5"])
    #expect(shipped.output.contains("OpenBLAS kernel Cooperlake, this machine's"))
  }

  @Test func benchNotesTheMAPEstimate() throws {
    let arguments = ["bench", "--patients", "200", "--training-steps", "0", "--repeats", "1"]
    let table = try titrate(arguments)
    #expect(table.status == 0, "\(table.errors)")
    #expect(table.output.contains("refits each patient's MAP estimate"))
    // JSON output stays one object per line, without the note.
    let json = try titrate(arguments + ["--json"])
    #expect(json.status == 0, "\(json.errors)")
    #expect(!json.output.contains("MAP estimate"))
    for line in json.output.split(separator: "\n") {
      #expect(throws: Never.self) { try JSONSerialization.jsonObject(with: Data(line.utf8)) }
    }
  }

  @Test func pauseAfterOutsideTheRunIsRejected() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("run.h5").path
    let late = try titrate(["train", "--rounds", "2", "--pause-after", "5", "--output", output])
    #expect(late.status == 2)
    #expect(late.errors.contains("--pause-after 5 must lie after the 0 rounds already trained"))
    #expect(!FileManager.default.fileExists(atPath: output))
  }

  /// Warfarin and propofol train through the same federation and evaluate
  /// against their baselines; vancomycin-only options are rejected by name.
  @Test func pkpdEnvironmentsTrainAndEvaluate() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("warfarin.h5").path
    let definition = Self.repositoryRoot.appendingPathComponent("Environments/pkpd/warfarin.json")
    let train = try titrate([
      "train", "--environment", definition.path, "--sites", "2", "--patients-per-site", "8",
      "--rounds", "2", "--hidden-sizes", "8,8", "--output", output,
    ])
    #expect(train.status == 0, "\(train.errors)")
    #expect(train.output.contains("round 2/2  return "))
    #expect(train.output.contains("time in range 0."))
    let evaluate = try titrate(["evaluate", output, "--patients", "20"])
    #expect(evaluate.status == 0, "\(evaluate.errors)")
    for name in ["learned", "iwpc_pharmacogenetic", "iwpc_clinical", "fixed_5mg"] {
      #expect(evaluate.output.contains("\n\(name) "))
    }
    #expect(evaluate.output.contains("pooled over 2 sites"))
    let shield = try titrate(["evaluate", output, "--shield"])
    #expect(shield.status == 2)
    #expect(shield.errors.contains("--shield applies to vancomycin checkpoints only"))
    // Propofol goes through the same path, with its PID baseline.
    let propofol = Self.repositoryRoot.appendingPathComponent("Environments/pkpd/propofol.json")
    let propofolOutput = folder.appendingPathComponent("propofol.h5").path
    let trainPropofol = try titrate([
      "train", "--environment", propofol.path, "--sites", "1", "--patients-per-site", "4",
      "--rounds", "1", "--hidden-sizes", "8,8", "--output", propofolOutput, "--quiet",
    ])
    #expect(trainPropofol.status == 0, "\(trainPropofol.errors)")
    let evaluatePropofol = try titrate(["evaluate", propofolOutput, "--patients", "4"])
    #expect(evaluatePropofol.status == 0, "\(evaluatePropofol.errors)")
    #expect(evaluatePropofol.output.contains("\npid "))
    #expect(evaluatePropofol.output.contains("MDAPE %"))
    let simulate = try titrate(["simulate", "--checkpoint", output])
    #expect(simulate.status == 0, "\(simulate.errors)")
    let cohort = try titrate([
      "train", "--environment", definition.path, "--cohort", "warfarin=x.csv", "--output",
      folder.appendingPathComponent("other.h5").path,
    ])
    #expect(cohort.status == 2)
    #expect(cohort.errors.contains("--cohort does not apply to the warfarin environment"))
    // Vancomycin regimen options are named as not applying to warfarin,
    // and an unknown kind is named.
    let simulateDefinition = try titrate([
      "simulate", "--environment", definition.path, "--dose-mg", "5", "--age", "70",
    ])
    #expect(simulateDefinition.status == 2)
    #expect(simulateDefinition.errors.contains("--dose-mg does not apply to simulate on warfarin"))
    let misspelt = folder.appendingPathComponent("misspelt.json")
    try String(contentsOf: definition, encoding: .utf8)
      .replacingOccurrences(of: "\"kind\": \"warfarin\"", with: "\"kind\": \"warfarn\"")
      .write(to: misspelt, atomically: true, encoding: .utf8)
    let unknownKind = try titrate([
      "train", "--environment", misspelt.path, "--output",
      folder.appendingPathComponent("kind.h5").path,
    ])
    #expect(unknownKind.status == 3)
    #expect(unknownKind.errors.contains("kind is warfarn, which is not known"))
  }

  @Test func continuousDoseRunEvaluatesAndSimulates() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = folder.appendingPathComponent("continuous.h5").path
    let train = try titrate(
      ["train", "--rounds", "2", "--action-mode", "milligrams", "--output", checkpoint]
        + Self.tinyTraining)
    #expect(train.status == 0, "\(train.errors)")
    let inspect = try titrate(["inspect", checkpoint])
    #expect(inspect.output.contains("continuous(low: 0.0, high: 3000.0)"))
    let evaluate = try titrate(["evaluate", checkpoint, "--patients", "50"])
    #expect(evaluate.status == 0, "\(evaluate.errors)")
    let simulate = try titrate(["simulate", "--checkpoint", checkpoint, "--age", "50"])
    #expect(simulate.status == 0, "\(simulate.errors)")
    // The actuator rounds every delivered dose to 250 mg.
    let doseLines = simulate.output.split(separator: "\n").filter { $0.contains(" mg over ") }
    #expect(doseLines.count == 6)
    for line in doseLines {
      let dose = Double(line.split(separator: " ").filter { !$0.isEmpty }[2]) ?? -1
      #expect(dose.truncatingRemainder(dividingBy: 250) == 0, "\(line)")
    }
  }

  @Test func evaluationIgnoresThreadCount() throws {
    let checkpoint = Self.repositoryRoot.appendingPathComponent(
      "Checkpoints/vancomycin-4site.h5"
    ).path
    let reports = try ["1", "3"].map { threads in
      try titrate(["evaluate", checkpoint, "--patients", "120", "--threads", threads, "--json"])
    }
    #expect(reports[0].status == 0, "\(reports[0].errors)")
    #expect(reports[0].output.count > 1000)
    #expect(reports[0].output == reports[1].output)
  }

  @Test func resumeContinuesToTheRequestedRound() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = folder.appendingPathComponent("run.h5").path
    let first = try titrate(
      ["train", "--rounds", "2", "--pause-after", "1", "--output", checkpoint] + Self.tinyTraining)
    #expect(first.status == 0, "\(first.errors)")
    let extend = try titrate([
      "train", "--resume", checkpoint, "--rounds", "3", "--output", checkpoint,
    ])
    #expect(extend.status == 2)
    #expect(
      extend.errors.contains(
        "--rounds 3 differs from the 2 rounds the checkpoint's run was configured for"))
    let conflicting = try titrate(
      ["train", "--resume", checkpoint, "--output", checkpoint, "--learning-rate", "0.1"])
    #expect(conflicting.status == 2)
    #expect(conflicting.errors.contains("--learning-rate cannot be combined with --resume"))
    let resumed = try titrate(["train", "--resume", checkpoint, "--output", checkpoint])
    #expect(resumed.status == 0, "\(resumed.errors)")
    #expect(resumed.output.contains("resuming \(checkpoint) after round 1 of 2"))
    #expect(resumed.output.contains("round 2/2"))
    #expect(!resumed.output.contains("round 1/2"))
    #expect(resumed.output.contains("trained 1 round (rounds 2-2)"))
  }

  @Test func pausedAndResumedRunEqualsUninterruptedRun() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let paused = folder.appendingPathComponent("paused.h5").path
    let straight = folder.appendingPathComponent("straight.h5").path
    let first = try titrate(
      ["train", "--rounds", "3", "--pause-after", "1", "--output", paused] + Self.tinyTraining)
    #expect(first.status == 0, "\(first.errors)")
    let resumed = try titrate(["train", "--resume", paused, "--output", paused, "--quiet"])
    #expect(resumed.status == 0, "\(resumed.errors)")
    let uninterrupted = try titrate(
      ["train", "--rounds", "3", "--output", straight, "--quiet"] + Self.tinyTraining)
    #expect(uninterrupted.status == 0, "\(uninterrupted.errors)")
    // Every stored array (networks, optimiser moments, normalisers,
    // generator states) must be bit-identical; h5py dumps them exactly.
    let dumps = try [paused, straight].map(Self.storedArrays)
    #expect(dumps[0].count > 20)
    #expect(dumps[0].keys.sorted() == dumps[1].keys.sorted())
    for (path, values) in dumps[0] {
      #expect(values == dumps[1][path], "entry \(path) differs")
    }
  }

  /// Reads every array of a checkpoint except the metrics with h5py
  /// (`scripts/checkpoint_interop.py dump`), keyed by its HDF5 path.
  static func storedArrays(_ path: String) throws -> [String: String] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
      "python3", repositoryRoot.appendingPathComponent("scripts/checkpoint_interop.py").path,
      "dump", path, "--json",
    ]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    struct Dump: Decodable {
      struct Entry: Decodable { var values: [String] }
      var entries: [String: Entry]
    }
    let dump = try JSONDecoder().decode(Dump.self, from: data)
    return dump.entries.filter { !$0.key.hasPrefix("metrics") }
      .mapValues { $0.values.joined(separator: ",") }
  }

  /// Edge patients change what the sites train on, are stored in the
  /// configuration and come back on resume.
  @Test func edgePatientsAreStoredAndResumed() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let paused = folder.appendingPathComponent("paused.h5").path
    let straight = folder.appendingPathComponent("straight.h5").path
    let plain = folder.appendingPathComponent("plain.h5").path
    let edge = ["--edge-patients", "0.3"]
    let first = try titrate(
      ["train", "--rounds", "2", "--pause-after", "1", "--output", paused] + edge
        + Self.tinyTraining)
    #expect(first.status == 0, "\(first.errors)")
    #expect(first.output.contains("edge patients: 30.0% of each site's training patients"))
    let resumed = try titrate(["train", "--resume", paused, "--output", paused, "--quiet"])
    #expect(resumed.status == 0, "\(resumed.errors)")
    for (path, extra) in [(straight, edge), (plain, [])] {
      let run = try titrate(
        ["train", "--rounds", "2", "--output", path, "--quiet"] + extra + Self.tinyTraining)
      #expect(run.status == 0, "\(run.errors)")
    }
    let inspected = try titrate(["inspect", straight])
    #expect(inspected.output.contains("edge patients: 30.0% of each site's training patients"))
    let dumps = try [paused, straight, plain].map(Self.storedArrays)
    #expect(dumps[0].count > 20)
    for (path, values) in dumps[0] {
      #expect(values == dumps[1][path], "entry \(path) differs after the resume")
    }
    let policyWeights = dumps[0].keys.filter { $0.hasPrefix("policy") }
    #expect(!policyWeights.isEmpty)
    #expect(policyWeights.contains { dumps[0][$0] != dumps[2][$0] })
  }

  @Test func edgePatientsNeedTheirSection() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    var tree = try Self.shippedVancomycinTree()
    tree.removeValue(forKey: "edgeCovariates")
    let file = folder.appendingPathComponent("plain.json")
    try JSONSerialization.data(withJSONObject: tree).write(to: file)
    let output = folder.appendingPathComponent("run.h5").path
    let missing = try titrate(
      ["train", "--environment", file.path, "--edge-patients", "0.05", "--output", output]
        + Self.tinyTraining)
    #expect(missing.status == 2)
    #expect(missing.errors.contains("defines no edgeCovariates"), "\(missing.errors)")
    let large = try titrate(["train", "--edge-patients", "0.7", "--output", output])
    #expect(large.status == 2)
    #expect(large.errors.contains("--edge-patients"), "\(large.errors)")
    let warfarin = try titrate(
      [
        "train", "--environment", "Environments/pkpd/warfarin.json", "--edge-patients", "0.1",
        "--output", output,
      ])
    #expect(warfarin.status == 2)
    #expect(warfarin.errors.contains("--edge-patients does not apply to the warfarin"))
    #expect(!FileManager.default.fileExists(atPath: output))
  }

  /// A checkpoint without the seal header (as h5py writes them) is read,
  /// and one whose damage makes HDF5 abort is rejected with exit 3 instead
  /// of crashing the command.
  @Test func damagedUnsealedCheckpointIsInvalidInput() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let shipped = Self.repositoryRoot.appendingPathComponent("Checkpoints/vancomycin-4site.h5")
    let unsealed = folder.appendingPathComponent("unsealed.h5")
    try CheckpointFile.write(
      try CheckpointFile.read(from: shipped), to: unsealed, failingAfterEntryCount: nil,
      sealed: false)
    let intact = try titrate(["inspect", unsealed.path])
    #expect(intact.status == 0, "\(intact.errors)")

    // A flipped byte in the size field of a string's global heap entry
    // ("GCOL" + 25) made HDF5 1.10.8 abort in the reading process.
    var bytes = try Data(contentsOf: unsealed)
    let heapOffset = try #require(bytes.firstRange(of: Data("GCOL".utf8))).lowerBound + 25
    bytes[heapOffset] ^= 0x5A
    let damaged = folder.appendingPathComponent("damaged.h5")
    try bytes.write(to: damaged)
    for command in ["inspect", "evaluate", "verify"] {
      let run = try titrate([command, damaged.path])
      #expect(run.status == 3, "\(command): \(run.errors)")
      #expect(run.errors.contains("HDF5 stopped with signal"), "\(command): \(run.errors)")
    }
  }

  @Test func truncatedCheckpointIsInvalidInput() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = folder.appendingPathComponent("cut.h5")
    let train = try titrate(
      ["train", "--rounds", "1", "--output", checkpoint.path] + Self.tinyTraining)
    #expect(train.status == 0, "\(train.errors)")
    let bytes = try Data(contentsOf: checkpoint)
    try bytes.prefix(bytes.count / 2).write(to: checkpoint)
    for command in ["evaluate", "inspect"] {
      let run = try titrate([command, checkpoint.path])
      #expect(run.status == 3, "\(command)")
      #expect(run.errors.contains(checkpoint.path), "\(command): \(run.errors)")
    }
  }

  @Test func simulateReachesSteadyStateAUC() throws {
    // After 20 days of 1000 mg q12h the daily AUC is daily dose / CL
    // (2000 mg / CL) for any linear model; CL is printed on the PK line.
    let run = try titrate([
      "simulate", "--dose-mg", "1000", "--interval-hours", "12", "--infusion-hours", "1",
      "--hours", "480", "--age", "50", "--weight", "70", "--creatinine", "1.0",
    ])
    #expect(run.status == 0, "\(run.errors)")
    let pkLine = try #require(
      run.output.split(separator: "\n").first { $0.hasPrefix("typical PK:") })
    let clearanceText = try #require(pkLine.split(separator: " ").dropFirst(3).first)
    let clearance = try #require(Double(clearanceText))
    let lastDay = try #require(run.output.split(separator: "\n").first { $0.hasPrefix(" 20 ") })
    let auc = try #require(Double(lastDay.split(separator: " ")[1]))
    // CL is printed with 2 decimals, so compare to 0.5% rather than exactly.
    #expect(abs(auc - 2000 / clearance) / auc < 0.005, "AUC \(auc), CL \(clearance)")
  }

  @Test func simulateWarnsAboutFastInfusion() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let csv = folder.appendingPathComponent("course.csv").path
    let svg = folder.appendingPathComponent("course.svg").path
    let run = try titrate([
      "simulate", "--dose-mg", "1250", "--interval-hours", "12", "--infusion-hours", "1.5",
      "--csv", csv, "--svg", svg,
    ])
    #expect(run.status == 0, "\(run.errors)")
    // 1250 mg at 10 mg/min takes 2.08 h; the suggestion is the next
    // multiple of the 0.25 h step, which --infusion-hours accepts.
    #expect(
      run.errors.contains(
        "1250 mg over 1.5 h is 13.9 mg/min, above the 10 mg/min limit; simulated as given (infuse over 2.25 h or longer to respect it)"
      ))
    let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
    #expect(rows.first == "time_h,concentration_mg_per_l,cumulative_auc_mg_h_per_l")
    #expect(rows.count == 1 + 72 * 4 + 1)
    #expect(try String(contentsOfFile: svg, encoding: .utf8).contains("<polyline"))
  }

  @Test func simulateRejectsImpossibleCovariates() throws {
    let run = try titrate(["simulate", "--dose-mg", "1000", "--age", "400"])
    #expect(run.status == 2)
    #expect(run.errors.contains("--age 400 is out of range; give a value in 18 to 120 years"))
  }

  @Test func environmentsListsPopulations() throws {
    let run = try titrate(["environments"])
    #expect(run.status == 0)
    for population in ["elderly_renal", "haematology", "icu_arc", "obese"] {
      #expect(run.output.contains("population \(population)"))
    }
    // The library-only environments are listed apart, each with its page.
    #expect(run.output.contains("other environments in"))
    #expect(run.output.contains("(Docs/environments/warfarin.md)"))
    #expect(run.output.contains("(Docs/environments/propofol.md)"))
    // The shipped file measures levels with each model's published error.
    #expect(!run.output.contains("levels measured with"))
  }

  @Test func environmentsShowsSiteMeasurementError() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    var tree = try Self.shippedVancomycinTree()
    var populations = tree["populations"] as! [String: Any]
    var icu = populations["icu_arc"] as! [String: Any]
    icu["measurementError"] = ["additiveMilligramsPerLiter": 1.5, "proportional": 0.08]
    populations["icu_arc"] = icu
    tree["populations"] = populations
    try JSONSerialization.data(withJSONObject: tree).write(
      to: folder.appendingPathComponent("vancomycin.json"))

    let run = try titrate(["environments", "--environments-dir", folder.path])
    #expect(run.status == 0)
    #expect(
      run.output.contains(
        "population icu_arc (model goti2018, levels measured with 1.5 mg/L + 8.0 %)"))
    #expect(run.output.contains("population obese (model goti2018)\n"))
  }

  /// A linear definition is read by its own loader wherever it sits, and
  /// an invalid one in pkpd/ is listed with the loader's reason.
  @Test func environmentsReadsEachKindWithItsLoader() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let gentamicin = Self.repositoryRoot.appendingPathComponent(
      "Environments/pkpd/gentamicin.json")
    try FileManager.default.copyItem(
      at: gentamicin, to: folder.appendingPathComponent("gentamicin.json"))
    let library = folder.appendingPathComponent("pkpd")
    try FileManager.default.createDirectory(at: library, withIntermediateDirectories: true)
    var tree =
      try JSONSerialization.jsonObject(with: Data(contentsOf: gentamicin)) as! [String: Any]
    var model = tree["model"] as! [String: Any]
    model["compartments"] = 4
    tree["model"] = model
    try JSONSerialization.data(withJSONObject: tree).write(
      to: library.appendingPathComponent("broken.json"))

    let run = try titrate(["environments", "--environments-dir", folder.path])
    #expect(run.status == 3)
    #expect(run.output.contains("gentamicin: Extended-interval gentamicin"), "\(run.output)")
    #expect(!run.output.contains("models: is missing"))
    #expect(run.output.contains("broken: invalid:"))
    #expect(run.output.contains("model.compartments: is 4"), "\(run.output)")
    #expect(run.errors.contains("1 of 2 environment definitions are invalid"), "\(run.errors)")
  }
}

/// The parts of `titrate evaluate --json` the tests read.
struct EvaluationReport: Decodable {
  struct Share: Decodable {
    var events: Int
    var total: Int
  }
  struct Summary: Decodable {
    var policy: String
    var patients: Int
    var targetAttainment: Share
    var anyTroughAboveLimit: Share
    var patientsClamped: Int
  }
  struct Cohort: Decodable {
    var name: String
    var summaries: [Summary]
  }
  var cohorts: [Cohort]
}
