import Foundation
import Testing

extension CommandLineTests {
  /// Parses the rows of the CSV that `simulate --csv` writes.
  func simulationRows(_ path: String) throws -> (header: [String], rows: [[Double]]) {
    let lines = try String(contentsOfFile: path, encoding: .utf8)
      .split(separator: "\n").map(String.init)
    let header = lines[0].split(separator: ",").map(String.init)
    let rows = lines.dropFirst().map { $0.split(separator: ",").map { Double($0) ?? .nan } }
    return (header, rows)
  }

  /// Trains a one-site, one-round checkpoint with an 8x8 network on
  /// `environment` and returns the result of the run.
  func trainTinyCheckpoint(_ environment: String, to checkpoint: String) throws -> Run {
    try titrate([
      "train", "--environment", environment, "--sites", "1", "--patients-per-site", "8",
      "--rounds", "1", "--hidden-sizes", "8,8", "--output", checkpoint, "--quiet",
    ])
  }

  /// Gentamicin 7 mg/kg q24h on the typical 80-kg patient (CL 2.3 L/h):
  /// the dose rounds to 560 mg, and each cycle's AUC approaches the
  /// steady-state value dose / CL = 243.5 mg*h/L from below.
  @Test func simulateLinearFixedRegimen() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let csv = folder.appendingPathComponent("g.csv").path
    let run = try titrate([
      "simulate", "--environment", "Environments/pkpd/gentamicin.json", "--baseline",
      "fixed_7mgkg_q24h", "--weight", "80", "--csv", csv,
    ])
    #expect(run.status == 0, "\(run.errors)")
    #expect(run.output.contains("CL 2.3 L/h"), "\(run.output)")
    #expect(run.output.contains("measurement noise off"))
    let (header, rows) = try simulationRows(csv)
    #expect(header.first == "cycle")
    #expect(rows.count == 4)
    let steadyStateAUC = 560 / 2.3
    for (index, row) in rows.enumerated() {
      #expect(row[1] == Double(index) * 24, "dose time of cycle \(index + 1)")
      #expect(row[2] == 560)
      #expect(row[3] == 24)
      #expect(row[6] < steadyStateAUC * 1.002, "cycle \(index + 1) AUC \(row[6])")
    }
    #expect(abs(rows[3][6] - steadyStateAUC) < steadyStateAUC * 0.01, "\(rows[3][6])")
    // The four cycle AUCs add up to the exact cumulative AUC printed.
    let total = rows.reduce(0) { $0 + $1[6] }
    #expect(run.output.contains(String(format: "cumulative AUC: %.4g", total)), "\(total)")
  }

  /// One compartment, IV bolus of 1000 mg every 12 h, CL 5 L/h, V 25 L
  /// (k = 0.2/h): cycle n (from 0) has AUC (D / CL)(1 - exp(-k tau (n + 1)))
  /// = 200 (1 - exp(-2.4 (n + 1))) mg*h/L, which the exact AUC state gives
  /// and a trapezoid on the grid misses by half a step of the bolus.
  @Test func simulateLinearBolusCycleAUCIsExact() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let csv = folder.appendingPathComponent("b.csv").path
    let run = try titrate([
      "simulate", "--environment", "Tests/Fixtures/linear/one_compartment_bolus.json",
      "--baseline", "fixed1000", "--csv", csv,
    ])
    #expect(run.status == 0, "\(run.errors)")
    // The fixture sets no trough ceiling, so the summary has no such line.
    #expect(!run.output.contains("trough<ceiling"))
    #expect(run.output.contains("toxic trough: 0.0%"))
    let (_, rows) = try simulationRows(csv)
    #expect(rows.count == 4)
    for (index, row) in rows.enumerated() {
      let expected = 200 * (1 - exp(-2.4 * Double(index + 1)))
      #expect(abs(row[6] - expected) < 1e-4 * expected, "cycle \(index + 1): \(row[6])")
      // Peak right after the bolus: D / V plus what is left of earlier doses.
      let peak = 40 * (1 - exp(-2.4 * Double(index + 1))) / (1 - exp(-2.4))
      #expect(abs(row[4] - peak) < 1e-4 * peak, "cycle \(index + 1) peak: \(row[4])")
    }
  }

  /// Warfarin, propofol and glucose print one row per decision and their
  /// summary metrics; a linear covariate option is rejected by name.
  @Test func simulateOtherKindsWithBaselines() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let cases: [(file: String, firstColumn: String, rows: Int, metric: String)] = [
      ("warfarin", "day", 90, "TTR measured"), ("propofol", "time_min", 0, "MDAPE %"),
      ("glucose", "time_min", 0, "TIR 70-180"),
    ]
    for entry in cases {
      let csv = folder.appendingPathComponent("\(entry.file).csv").path
      let run = try titrate([
        "simulate", "--environment", "Environments/pkpd/\(entry.file).json", "--csv", csv,
      ])
      #expect(run.status == 0, "\(entry.file): \(run.errors)")
      #expect(run.output.contains(entry.metric), "\(entry.file): \(run.output)")
      let (header, rows) = try simulationRows(csv)
      #expect(header.first == entry.firstColumn)
      #expect(!rows.isEmpty)
      if entry.rows > 0 { #expect(rows.count == entry.rows, "\(entry.file)") }
      for row in rows {
        let finite = row.allSatisfy { $0.isFinite }
        #expect(finite, "\(entry.file): \(row)")
      }
      let rejected = try titrate([
        "simulate", "--environment", "Environments/pkpd/\(entry.file).json", "--weight", "80",
      ])
      #expect(rejected.status == 2)
      #expect(rejected.errors.contains("--weight does not apply to simulate on"))
    }
  }

  /// Without --noise-seed the warfarin INR carries no residual error: each
  /// morning's reported INR is the previous day's true end-of-day INR
  /// rounded to the file's 0.1 resolution.
  @Test func simulateWarfarinWithoutNoiseReportsTrueINR() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let csv = folder.appendingPathComponent("w.csv").path
    let run = try titrate([
      "simulate", "--environment", "Environments/pkpd/warfarin.json", "--csv", csv,
    ])
    #expect(run.status == 0, "\(run.errors)")
    #expect(run.output.contains("measurement noise off"))
    let (header, rows) = try simulationRows(csv)
    #expect(header == ["day", "dose_mg", "inr_true_end_of_day", "inr_measured", "inr_drawn"])
    var draws = 0
    for index in 1..<rows.count where rows[index][4] == 1 {
      let expected = (rows[index - 1][2] * 10).rounded() / 10
      #expect(abs(rows[index][3] - expected) < 1e-9, "day \(rows[index][0]): \(rows[index])")
      draws += 1
    }
    #expect(draws == 15, "INR draws after day 1: \(draws)")
  }

  /// The patient line names the seed the patient was drawn with, and a
  /// glucose patient by simglucose's name.
  @Test func simulatePatientLineNamesSeed() throws {
    let glucose = try titrate([
      "simulate", "--environment", "Environments/pkpd/glucose.json", "--noise-seed", "7",
    ])
    #expect(glucose.status == 0, "\(glucose.errors)")
    #expect(glucose.output.contains("of the children (drawn with seed 7)"), "\(glucose.output)")
    #expect(glucose.output.contains("patient: child#0"), "\(glucose.output)")
    #expect(!glucose.output.contains("measurement noise off"))
    let warfarin = try titrate([
      "simulate", "--environment", "Environments/pkpd/warfarin.json", "--noise-seed", "7",
    ])
    #expect(warfarin.status == 0, "\(warfarin.errors)")
    #expect(warfarin.output.contains("(drawn with seed 7)"), "\(warfarin.output)")
    let quiet = try titrate(["simulate", "--environment", "Environments/pkpd/propofol.json"])
    #expect(quiet.status == 0, "\(quiet.errors)")
    #expect(quiet.output.contains("(drawn with seed 0)"), "\(quiet.output)")
  }

  /// Options of another kind are rejected by name with exit 2.
  @Test func simulateRejectsForeignOptions() throws {
    let linear = try titrate([
      "simulate", "--environment", "Environments/pkpd/gentamicin.json", "--dose-mg", "500",
    ])
    #expect(linear.status == 2)
    #expect(linear.errors.contains("--dose-mg does not apply"))
    let unknownBaseline = try titrate([
      "simulate", "--environment", "Environments/pkpd/gentamicin.json", "--baseline", "pid",
    ])
    #expect(unknownBaseline.status == 2)
    #expect(unknownBaseline.errors.contains("--baseline pid is not one of: hartford"))
    let vancomycin = try titrate(["simulate", "--dose-mg", "1000", "--baseline", "pid"])
    #expect(vancomycin.status == 2)
    #expect(vancomycin.errors.contains("--baseline does not apply to vancomycin"))
  }

  /// verify on a tiny linear checkpoint lists the linear checks, and the
  /// Hartford baseline passes them.
  @Test func verifyRunsOnLinearCheckpoint() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = folder.appendingPathComponent("g.h5").path
    let train = try trainTinyCheckpoint("Environments/pkpd/gentamicin.json", to: checkpoint)
    #expect(train.status == 0, "\(train.errors)")
    let hartford = try titrate(["verify", checkpoint, "--patients", "64", "--policy", "hartford"])
    #expect(hartford.status == 0, "\(hartford.output)\(hartford.errors)")
    #expect(hartford.output.contains("PASS  hardLimits.interval"))
    #expect(hartford.output.contains("exposure.toxicTrough.stress.weight200"))
    #expect(hartford.output.contains("no renal-failure cohort"))
    let learned = try titrate(["verify", checkpoint, "--patients", "8"])
    // An untrained network may fail a check (exit 4) but must run.
    #expect(learned.status == 0 || learned.status == 4, "\(learned.errors)")
    #expect(
      learned.output.contains("clinicalSanity.higherLevelNeverShortensIntervalOrRaisesDose"))
    #expect(learned.output.contains("nonFiniteObservations.rejectedRowsDosed"))
    let ignored = try titrate(["verify", checkpoint, "--environment", "vancomycin"])
    #expect(ignored.status == 2)
    #expect(ignored.errors.contains("this checkpoint's has them; remove --environment"))
  }

  /// example_oral sets no trough ceiling, so evaluate neither shows a
  /// trough<ceiling column nor describes one in its column note.
  @Test func evaluateLinearWithoutCeilingOmitsItsNote() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = folder.appendingPathComponent("o.h5").path
    let train = try trainTinyCheckpoint("Environments/pkpd/example_oral.json", to: checkpoint)
    #expect(train.status == 0, "\(train.errors)")
    let run = try titrate(["evaluate", checkpoint, "--patients", "8"])
    #expect(run.status == 0, "\(run.errors)")
    #expect(run.output.contains("AUC per 24 h in 50.0-100.0 mg*h/L, trough at or above 8.0 mg/L"))
    #expect(!run.output.contains("ceiling"), "\(run.output)")
  }

  /// A linear checkpoint whose definition has no exposure thresholds.
  /// verify names the missing file it looked for. With --environment it
  /// borrows that file's thresholds and notes whose levels count.
  @Test func verifyBorrowsThresholdsForLinearCheckpoint() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let gentamicin = Self.repositoryRoot.appendingPathComponent(
      "Environments/pkpd/gentamicin.json")
    var tree =
      try JSONSerialization.jsonObject(with: Data(contentsOf: gentamicin)) as! [String: Any]
    tree["name"] = "amikacin_test"
    var safety = tree["safety"] as! [String: Any]
    safety["exposureThresholds"] = nil
    tree["safety"] = safety
    let definition = folder.appendingPathComponent("amikacin_test.json")
    try JSONSerialization.data(withJSONObject: tree).write(to: definition)
    let checkpoint = folder.appendingPathComponent("a.h5").path
    let train = try titrate([
      "train", "--environment", definition.path, "--sites", "1", "--patients-per-site", "8",
      "--rounds", "1", "--hidden-sizes", "8,8", "--output", checkpoint, "--quiet",
    ])
    #expect(train.status == 0, "\(train.errors)")

    let missing = try titrate(["verify", checkpoint, "--patients", "8"])
    #expect(missing.status == 3)
    #expect(missing.errors.contains("no definition was found at"), "\(missing.errors)")
    #expect(missing.errors.contains("amikacin_test.json to take them from"))
    let borrowed = try titrate([
      "verify", checkpoint, "--patients", "8", "--policy", "hartford", "--environment",
      gentamicin.path,
    ])
    #expect(borrowed.status == 0 || borrowed.status == 4, "\(borrowed.errors)")
    #expect(
      borrowed.output.contains(
        "Their descriptions cite that file's levels, but each outcome is counted with the "
          + "checkpoint's own definition"), "\(borrowed.output)")
  }
}
