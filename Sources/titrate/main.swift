import Foundation
import TitrateCheckpoint
import TitrateKernels

/// Program version, stored in every checkpoint.
let titrateVersion = "0.2.0"

let topLevelHelp = """
  usage: titrate COMMAND [OPTIONS]

  Federated reinforcement learning for drug dosing on population PK/PD
  simulations.

  commands:
    train          train a dosing policy across simulated sites and save a checkpoint
    evaluate       evaluate a checkpoint on held-out virtual patients against baselines
    simulate       simulate a fixed regimen or a checkpoint's policy for one patient
    inspect        print what a checkpoint contains
    verify         run the safety suite on a checkpoint's policy
    environments   list the environment definitions and their site populations
    bench          measure evaluation and training throughput
    aggregator     run the aggregator of a federation whose sites dial in over ZeroMQ
    site           run one hospital site that dials a titrate aggregator
    keys           generate CURVE key pairs for the aggregator and the sites
    version        print the program version

  Run 'titrate COMMAND --help' for a command's options. Exit codes: 0 success,
  1 run failed, 2 invalid command line, 3 invalid input file, 4 a safety
  check failed.
  """

/// Runs one subcommand with its arguments.
func runCommand(_ name: String, _ arguments: [String]) throws {
  switch name {
  case "train": try TrainCommand.run(arguments)
  case "evaluate": try EvaluateCommand.run(arguments)
  case "simulate": try SimulateCommand.run(arguments)
  case "inspect": try InspectCommand.run(arguments)
  case "verify": try VerifyCommand.run(arguments)
  case "environments": try EnvironmentsCommand.run(arguments)
  case "bench": try BenchCommand.run(arguments)
  case "aggregator": try AggregatorCommand.run(arguments)
  case "site": try SiteCommand.run(arguments)
  case "keys": try KeysCommand.run(arguments)
  case "version", "--version":
    if let extra = arguments.first {
      throw CommandError.usage("'titrate version' takes no arguments; remove '\(extra)'")
    }
    print("titrate \(titrateVersion)")
  case "help", "--help", "-h": print(topLevelHelp)
  default:
    throw CommandError.usage(
      "unknown command '\(name)'; the commands are train, evaluate, simulate, inspect, verify, environments, bench, aggregator, site, keys, version"
    )
  }
}

if let path = ProcessInfo.processInfo.environment[checkpointProbeVariable] {
  let readable = (try? CheckpointFile.read(from: URL(fileURLWithPath: path))) != nil
  exit(readable ? ExitCode.success.rawValue : ExitCode.invalidInput.rawValue)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else {
  print(topLevelHelp)
  exit(ExitCode.usage.rawValue)
}
if let warning = KernelLevel.processOverrideWarning {
  printError("titrate: warning: \(warning)")
}
// Under --transport mpi every rank reports its own error, ranks other than
// 0 with their rank, and exitProcess shuts the MPI job down.
do {
  try runCommand(command, Array(arguments.dropFirst()))
} catch let error as CommandError {
  printError("\(errorPrefix(command: command)): \(error.message)")
  exitProcess(error.code.rawValue)
} catch {
  printError("\(errorPrefix(command: command)): \(error)")
  exitProcess(ExitCode.failure.rawValue)
}
exitProcess(ExitCode.success.rawValue)
