import Foundation
import Testing

/// `titrate simulate` on vancomycin: sites of another model, warnings for
/// regimens beyond the actuator's limits, output paths, the simulation
/// grid and the creatinine clearance the summary prints.
extension CommandLineTests {
  static let shippedCheckpoint = repositoryRoot.appendingPathComponent(
    "Checkpoints/vancomycin-4site.h5"
  ).path

  /// Returns the value after `label` in a summary line, for example the
  /// 5.76 of "CL 5.76 L/h".
  func number(after label: String, in text: String) throws -> Double {
    let range = try #require(text.range(of: label + " "))
    let rest = text[range.upperBound...]
    return try #require(Double(rest.prefix { "0123456789.".contains($0) }))
  }

  func line(startingWith prefix: String, in output: String) throws -> String {
    String(try #require(output.split(separator: "\n").first { $0.hasPrefix(prefix) }))
  }

  /// A haematology patient (one-compartment buelga2005 model) dosed by the
  /// policy of site icu_arc (two-compartment goti2018 model) keeps its own
  /// model: by mass balance, every milligram given is either eliminated
  /// (CL x AUC) or still in the central volume (V1 x C) at 72 h, which a
  /// two-compartment course would break by about 12 %.
  @Test func simulatePatientAtSiteOfOtherModel() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let csv = folder.appendingPathComponent("course.csv").path
    let run = try titrate([
      "simulate", "--checkpoint", Self.shippedCheckpoint, "--population", "haematology",
      "--site", "icu_arc", "--csv", csv,
    ])
    #expect(run.status == 0, "\(run.errors)")
    #expect(
      run.errors.contains(
        "note: the patient follows model buelga2005 of population haematology; the policy sees its levels with the measurement error of site icu_arc (model goti2018)"
      ))
    let ownSite = try titrate([
      "simulate", "--checkpoint", Self.shippedCheckpoint, "--population", "haematology",
    ])
    #expect(ownSite.status == 0, "\(ownSite.errors)")
    #expect(!ownSite.errors.contains("note: the patient follows"))
    let pkLine = try line(startingWith: "typical PK:", in: run.output)
    #expect(pkLine == (try line(startingWith: "typical PK:", in: ownSite.output)))
    #expect(!pkLine.contains(" Q "), "\(pkLine)")

    let doseLines = run.output.split(separator: "\n").filter { $0.contains(" mg over ") }
    #expect(doseLines.count == 6)
    let doses = doseLines.map { Double($0.split(separator: " ")[2]) ?? -1 }
    for dose in doses {
      #expect(dose >= 0)
      #expect(dose <= 3000)
      #expect(dose.truncatingRemainder(dividingBy: 250) == 0)
    }
    let last = try #require(
      String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").last)
    let values = last.split(separator: ",").compactMap { Double($0) }
    #expect(values.count == 3)
    #expect(values[0] == 72)
    let clearance = try number(after: "CL", in: pkLine)
    let volume = try number(after: "V1", in: pkLine)
    let accounted = clearance * values[2] + volume * values[1]
    let dosedMilligrams = doses.reduce(0, +)
    #expect(
      abs(accounted - dosedMilligrams) / dosedMilligrams < 0.002,
      "\(accounted) of \(dosedMilligrams) mg")
  }

  /// The opposite direction: a two-compartment patient at the site of the
  /// one-compartment model.
  @Test func simulateTwoCompartmentPatientAtOneCompartmentSite() throws {
    let run = try titrate([
      "simulate", "--checkpoint", Self.shippedCheckpoint, "--population", "icu_arc", "--site",
      "haematology",
    ])
    #expect(run.status == 0, "\(run.errors)")
    #expect(try line(startingWith: "typical PK:", in: run.output).contains(", Q 6.50 L/h"))
    #expect(run.errors.contains("the measurement error of site haematology (model buelga2005)"))
  }

  /// Regimens beyond the shipped actuator limits (3000 mg per dose,
  /// 6000 mg per 24 h) or below the 1 h minimum infusion run with one
  /// warning per limit, each naming what the environment would do.
  @Test func simulateWarnsAboutEachExceededLimit() throws {
    let large = try titrate(["simulate", "--dose-mg", "3500", "--infusion-hours", "6"])
    #expect(large.status == 0, "\(large.errors)")
    #expect(
      large.errors.contains(
        "warning: --dose-mg 3500 is above the 3000 mg limit per dose; simulated as given (the actuator would lower it to 3000 mg)"
      ))
    // 3500 mg q12h is 7000 mg a day, and 6000 mg once lowered to 3000 mg.
    #expect(
      large.errors.contains(
        "warning: the doses started within 24 h add up to as much as 7000 mg, above the 6000 mg limit per 24 h; simulated as given (after the actuator's limit per dose and rounding to 250 mg, at most 6000 mg would start within 24 h)"
      ))
    #expect(!large.errors.contains("mg/min"))

    // 3000 mg q6h: the actuator lets two doses through and then gives
    // 0 mg until the first of them is 24 h old (doses at 12, 18, 36, 42,
    // 60 and 66 h).
    let daily = try titrate([
      "simulate", "--dose-mg", "3000", "--interval-hours", "6", "--infusion-hours", "5",
    ])
    #expect(daily.status == 0, "\(daily.errors)")
    #expect(
      daily.errors.contains(
        "warning: the doses started within 24 h add up to as much as 12000 mg, above the 6000 mg limit per 24 h; simulated as given (the actuator would lower 6 of the 12 doses, the first at 12 h from 3000 to 0 mg)"
      ))
    #expect(!daily.errors.contains("limit per dose"))

    let short = try titrate(["simulate", "--dose-mg", "250", "--infusion-hours", "0.5"])
    #expect(short.status == 0, "\(short.errors)")
    #expect(
      short.errors
        == "titrate simulate: warning: --infusion-hours 0.5 is below the 1 h minimum infusion time; simulated as given (the environment would infuse 250 mg over 1 h)\n"
    )

    // A 3500 mg loading dose is named by its own option. With the 2000 mg
    // doses at 8 and 16 h, the first day adds up to 7500 mg.
    let loading = try titrate([
      "simulate", "--dose-mg", "2000", "--loading-dose-mg", "3500", "--interval-hours", "8",
      "--infusion-hours", "6",
    ])
    #expect(loading.status == 0, "\(loading.errors)")
    #expect(loading.errors.contains("warning: --loading-dose-mg 3500 is above the 3000 mg limit"))
    #expect(!loading.errors.contains("--dose-mg 2000"))
    #expect(
      loading.errors.contains(
        "as much as 7500 mg, above the 6000 mg limit per 24 h; simulated as given (the actuator would lower 1 of the 9 doses, the first at 16 h from 2000 to 1000 mg)"
      ))
  }

  @Test func simulateAcceptsSuggestedInfusionTime() throws {
    let run = try titrate([
      "simulate", "--dose-mg", "1250", "--interval-hours", "12", "--infusion-hours", "2.25",
    ])
    #expect(run.status == 0, "\(run.errors)")
    #expect(run.errors.isEmpty, "\(run.errors)")
  }

  /// Output paths are compared after resolving `.`, `..` and symbolic
  /// links, and every path is checked before the summary is printed.
  @Test func simulateChecksOutputPathsFirst() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let real = folder.appendingPathComponent("real")
    try FileManager.default.createDirectory(at: real, withIntermediateDirectories: false)
    let link = folder.appendingPathComponent("link")
    try FileManager.default.createSymbolicLink(at: link, withDestinationURL: real)
    let resolved = URL(fileURLWithPath: real.path).resolvingSymlinksInPath()
      .appendingPathComponent("x.csv").path
    let pairs = [
      (real.path + "/x.csv", real.path + "/./x.csv"),
      (real.path + "/x.csv", link.path + "/x.csv"),
      (real.path + "/x.csv", folder.path + "/link/../real/x.csv"),
    ]
    for (csv, svg) in pairs {
      let run = try titrate(["simulate", "--dose-mg", "1000", "--csv", csv, "--svg", svg])
      #expect(run.status == 2, "\(svg)")
      #expect(
        run.errors.contains(
          "--csv \(csv) and --svg \(svg) name the same file \(resolved); give two different files"),
        "\(run.errors)")
      #expect(run.output.isEmpty)
      #expect(!FileManager.default.fileExists(atPath: resolved))
    }

    let missing = folder.appendingPathComponent("no/such/course.svg").path
    let noFolder = try titrate(["simulate", "--dose-mg", "1000", "--svg", missing])
    #expect(noFolder.status == 2)
    #expect(noFolder.errors.contains("folder \(folder.path)/no/such not found; create it first"))
    #expect(noFolder.output.isEmpty)

    let file = folder.appendingPathComponent("file")
    try Data("keep".utf8).write(to: file)
    let notFolder = try titrate(["simulate", "--dose-mg", "1000", "--csv", file.path + "/x.csv"])
    #expect(notFolder.status == 2)
    #expect(
      notFolder.errors.contains("\(file.path) is a file, not a folder; give a path in a folder"))
    #expect(notFolder.output.isEmpty)

    let isFolder = try titrate(["simulate", "--dose-mg", "1000", "--svg", real.path])
    #expect(isFolder.status == 2)
    #expect(isFolder.errors.contains("--svg '\(real.path)' is a folder; give a file path"))
  }

  /// Runs on copies of the inputs, so that a regression overwrites only
  /// files of the test's own folder.
  @Test func simulateNeverOverwritesItsInput() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = folder.appendingPathComponent("checkpoints/policy.h5")
    try FileManager.default.createDirectory(
      at: checkpoint.deletingLastPathComponent(), withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      at: URL(fileURLWithPath: Self.shippedCheckpoint), to: checkpoint)
    let before = try Data(contentsOf: checkpoint)
    let spelled = folder.path + "/checkpoints/../checkpoints/policy.h5"
    let run = try titrate(["simulate", "--checkpoint", checkpoint.path, "--csv", spelled])
    #expect(run.status == 2)
    #expect(
      run.errors.contains(
        "--csv \(spelled) is the --checkpoint file \(checkpoint.resolvingSymlinksInPath().path), which writing would overwrite; give another file"
      ), "\(run.errors)")
    #expect(try Data(contentsOf: checkpoint) == before)

    let definition = folder.appendingPathComponent("vancomycin.json")
    try FileManager.default.copyItem(
      at: Self.repositoryRoot.appendingPathComponent("Environments/vancomycin.json"),
      to: definition)
    let text = try Data(contentsOf: definition)
    let named = try titrate([
      "simulate", "--dose-mg", "1000", "--environments-dir", folder.path, "--svg",
      definition.path,
    ])
    #expect(named.status == 2)
    #expect(
      named.errors.contains(
        "--svg \(definition.path) is the --environment file \(definition.resolvingSymlinksInPath().path)"
      ), "\(named.errors)")
    #expect(try Data(contentsOf: definition) == text)
  }

  @Test func simulateRejectsHoursOffTheGrid() throws {
    let cases = [("47.9", "47.75 or 48"), ("1.1", "1 or 1.25"), ("1999.9", "1999.75 or 2000")]
    for (hours, neighbours) in cases {
      let run = try titrate(["simulate", "--dose-mg", "1000", "--hours", hours])
      #expect(run.status == 2, "\(hours)")
      #expect(
        run.errors.contains(
          "--hours \(hours) is not a multiple of the 0.25 h simulation step; give \(neighbours) h"),
        "\(run.errors)")
      #expect(run.output.isEmpty)
    }
    let infusion = try titrate(["simulate", "--dose-mg", "1000", "--infusion-hours", "2.08"])
    #expect(infusion.status == 2)
    #expect(
      infusion.errors.contains(
        "--infusion-hours 2.08 is not a multiple of the 0.25 h simulation step; give 2 or 2.25 h"))
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let csv = folder.appendingPathComponent("course.csv").path
    let onGrid = try titrate([
      "simulate", "--dose-mg", "1000", "--infusion-hours", "2", "--hours", "47.75", "--csv", csv,
    ])
    #expect(onGrid.status == 0, "\(onGrid.errors)")
    // 191 steps of 0.25 h after the row at 0 h, the last at 47.75 h.
    let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
    #expect(rows.count == 1 + 192)
    #expect(rows.last?.hasPrefix("47.7500,") == true)
  }

  @Test func simulateSiteNeedsCheckpoint() throws {
    let run = try titrate(["simulate", "--dose-mg", "1000", "--site", "obese"])
    #expect(run.status == 2)
    #expect(
      run.errors.contains(
        "--site applies only with --checkpoint, where it chooses the site whose measurement error and observation statistics the policy sees; a fixed regimen has neither, so remove --site"
      ))
    let environment = try titrate([
      "simulate", "--checkpoint", Self.shippedCheckpoint, "--environment", "vancomycin",
    ])
    #expect(environment.status == 2)
    #expect(environment.errors.contains("--environment cannot be combined with --checkpoint"))
    let help = try titrate(["simulate", "--help"])
    #expect(help.output.contains("not with --checkpoint, which uses the environment stored"))
    #expect(!help.output.contains("ignored with --checkpoint"))
    let intensiveCare = try titrate(["simulate", "--dose-mg", "1000", "--intensive-care"])
    #expect(intensiveCare.status == 2)
    #expect(
      intensiveCare.errors.contains(
        "--intensive-care is an input of a checkpoint's policy, and no PK model of this environment uses it"
      ))
  }

  /// A dose off the 250 mg increment runs as given, with a warning naming
  /// the dose the actuator would deliver (1100 rounds to 1000, 1200 to
  /// 1250).
  @Test func simulateWarnsAboutDoseOffIncrement() throws {
    let run = try titrate([
      "simulate", "--dose-mg", "1200", "--loading-dose-mg", "1100", "--infusion-hours", "2",
      "--hours", "24",
    ])
    #expect(run.status == 0, "\(run.errors)")
    #expect(
      run.errors.contains(
        "warning: --loading-dose-mg 1100 is not a multiple of the 250 mg dose increment; simulated as given (the actuator would deliver 1000 mg)"
      ))
    #expect(
      run.errors.contains(
        "warning: --dose-mg 1200 is not a multiple of the 250 mg dose increment; simulated as given (the actuator would deliver 1250 mg)"
      ))
    let onIncrement = try titrate(["simulate", "--dose-mg", "1250", "--infusion-hours", "2"])
    #expect(!onIncrement.errors.contains("dose increment"))
  }

  /// goti2018 (icu_arc) raises serum creatinine to 1.0 mg/dL above age
  /// 60 and caps clearance at 150 mL/min, while buelga2005 (haematology)
  /// uses the equation as it is. Values by Cockcroft-Gault, (140 - age) x
  /// weight / (72 x SCr), x 0.85 for women.
  @Test func simulatePrintsModelCreatinineClearance() throws {
    let cases: [(arguments: [String], expected: String)] = [
      // 40 x 30 x 0.85 / 14.4 = 70.8, and 14.2 with SCr 1.0.
      (
        ["--age", "100", "--weight", "30", "--sex", "female", "--creatinine", "0.2"],
        "CrCl 14 mL/min as the model uses it (creatinine floored at 1.0 mg/dL above age 60; Cockcroft-Gault 71)"
      ),
      // 80 x 80 / 14.4 = 444.4, with no floor because 60 is not above 60.
      (
        ["--creatinine", "0.2"],
        "CrCl 150 mL/min as the model uses it (capped at 150 mL/min; Cockcroft-Gault 444)"
      ),
      // 79 x 200 / 14.4 = 1097.2, and 219.4 with SCr 1.0 before the cap.
      (
        ["--age", "61", "--weight", "200", "--creatinine", "0.2"],
        "CrCl 150 mL/min as the model uses it (creatinine floored at 1.0 mg/dL above age 60, then capped at 150 mL/min; Cockcroft-Gault 1097)"
      ),
      (
        ["--creatinine", "0.2", "--population", "haematology"], "SCr 0.20 mg/dL, CrCl 444 mL/min\n"
      ),
      (["--creatinine", "1.0"], "SCr 1.00 mg/dL, CrCl 89 mL/min\n"),
    ]
    for (arguments, expected) in cases {
      let run = try titrate(["simulate", "--dose-mg", "1000", "--infusion-hours", "2"] + arguments)
      #expect(run.status == 0, "\(arguments): \(run.errors)")
      #expect(run.output.contains(expected), "\(arguments): \(run.output)")
    }

    // The PK parameters follow the printed clearance: a floored or capped
    // creatinine gives the same patient as the value it was raised to.
    let pairs = [
      (
        ["--age", "100", "--weight", "30", "--creatinine", "0.2"],
        ["--age", "100", "--weight", "30", "--creatinine", "1.0"]
      ),
      (["--creatinine", "0.2"], ["--creatinine", "0.3"]),
    ]
    for (first, second) in pairs {
      let lines = try [first, second].map { arguments in
        let run = try titrate(
          ["simulate", "--dose-mg", "1000", "--infusion-hours", "2"] + arguments)
        return try line(startingWith: "typical PK:", in: run.output)
      }
      #expect(lines[0] == lines[1], "\(first) and \(second)")
    }
  }
}
