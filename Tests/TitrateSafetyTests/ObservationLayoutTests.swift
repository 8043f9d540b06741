import Foundation
import Testing
import TitrateCheckpoint
import TitrateFederation
import TitrateSafety

/// A checkpoint whose network reads the 28-entry rows of program version
/// 0.1.0 (before the care-setting entry) is rejected with both widths.
/// The fixture was trained by that version for 1 round with 8x8 layers.
@Suite struct ObservationLayoutTests {
  static func oldCheckpoint() throws -> TrainedPolicy {
    let contents = try CheckpointFile.read(
      from: Fixtures.root.appendingPathComponent(
        "Tests/Fixtures/checkpoints/vancomycin-layout-0.1.h5"))
    return try TrainedPolicy(contents: contents)
  }

  @Test func oldLayoutRejectedByVerifier() throws {
    let checkpoint = try Self.oldCheckpoint()
    #expect(checkpoint.network.observationSize == 28)
    do {
      _ = try SafetyVerifier(checkpoint: checkpoint)
      Issue.record("a checkpoint with 28 inputs was accepted")
    } catch {
      let message = "\(error)"
      #expect(message.contains("takes 28 observation entries"))
      #expect(message.contains("writes 29 per row"))
      #expect(message.contains("retrain the policy"))
    }
  }
}
