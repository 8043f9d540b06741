import Testing
import TitrateEnvironments

@testable import TitrateRL

@Suite struct PPOGradientTests {
  func learner(minibatchSize: Int) throws -> PPOLearner {
    var configuration = PPOConfiguration()
    configuration.stepsPerRollout = 4
    configuration.minibatchSize = minibatchSize
    configuration.hiddenSizes = [8]
    configuration.entropyCoefficient = 0.01
    configuration.maxGradientNorm = .infinity
    configuration.seed = 5
    return try PPOLearner(
      configuration: configuration, observationSize: 3, actionSpace: .discrete(count: 3))
  }

  /// Chunking only splits the sum: a rollout of 4 x 25 = 100 transitions
  /// in chunks of 7 (the last one 2) gives the one-chunk gradient.
  @Test func chunkingKeepsTheGradient() throws {
    let whole = try learner(minibatchSize: 1000).estimateGradient(
      environment: ContextualBandit(batchSize: 25))
    let chunked = try learner(minibatchSize: 7).estimateGradient(
      environment: ContextualBandit(batchSize: 25))
    #expect(whole.gradient.count == chunked.gradient.count)
    let largest = whole.gradient.map(abs).max()!
    #expect(largest > 0)
    for (a, b) in zip(whole.gradient, chunked.gradient) {
      #expect(abs(a - b) <= 1e-5 * largest)
    }
  }

  /// The returned gradient is clipped to maxGradientNorm and reports the
  /// norm before clipping.
  @Test func gradientIsClipped() throws {
    let free = try learner(minibatchSize: 64).estimateGradient(
      environment: ContextualBandit(batchSize: 25))
    var configuration = try learner(minibatchSize: 64).configuration
    configuration.maxGradientNorm = Float(free.unclippedNorm / 4)
    let clipped = try PPOLearner(
      configuration: configuration, observationSize: 3, actionSpace: .discrete(count: 3)
    ).estimateGradient(environment: ContextualBandit(batchSize: 25))
    #expect(clipped.unclippedNorm == free.unclippedNorm)
    let norm = clipped.gradient.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    #expect(abs(norm - free.unclippedNorm / 4) < 1e-4 * free.unclippedNorm)
  }
}
