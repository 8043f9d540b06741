import Testing

@testable import TitrateRandom

@Suite struct Xoshiro256Tests {
  @Test func matchesReferenceSequence() {
    // Reference: the xoshiro256** C code with state {1, 2, 3, 4}; the first
    // outputs are 11520, 0, 1509978240, 1215971899390074240.
    var generator = Xoshiro256(state: [1, 2, 3, 4])
    #expect(generator.next() == 11520)
    #expect(generator.next() == 0)
    #expect(generator.next() == 1_509_978_240)
    #expect(generator.next() == 1_215_971_899_390_074_240)
  }

  @Test func sameSeedGivesSameDraws() {
    var first = Xoshiro256(seed: 42)
    var second = Xoshiro256(seed: 42)
    for _ in 0..<100 { #expect(first.next() == second.next()) }
  }

  @Test func streamsDiffer() {
    var siteZero = Xoshiro256(seed: 7, stream: 0)
    var siteOne = Xoshiro256(seed: 7, stream: 1)
    #expect(siteZero.next() != siteOne.next())
  }

  @Test func normalPairIsUncorrelatedWithUnitMoments() {
    var generator = Xoshiro256(seed: 9)
    var single = Xoshiro256(seed: 9)
    let count = 200_000
    var sums = (0.0, 0.0, 0.0, 0.0, 0.0)
    for index in 0..<count {
      let (first, second) = generator.nextStandardNormalPair()
      if index == 0 { #expect(first == single.nextStandardNormal()) }
      sums.0 += first
      sums.1 += second
      sums.2 += first * first
      sums.3 += second * second
      sums.4 += first * second
    }
    let n = Double(count)
    // 5 standard errors: 0.011 for means and the correlation, 0.016 for
    // variances.
    #expect(abs(sums.0 / n) < 0.011)
    #expect(abs(sums.1 / n) < 0.011)
    #expect(abs(sums.2 / n - 1) < 0.016)
    #expect(abs(sums.3 / n - 1) < 0.016)
    #expect(abs(sums.4 / n) < 0.011)
  }

  @Test func normalDrawsHaveUnitMoments() {
    var generator = Xoshiro256(seed: 3)
    let count = 200_000
    var sum = 0.0
    var sumOfSquares = 0.0
    for _ in 0..<count {
      let x = generator.nextStandardNormal()
      sum += x
      sumOfSquares += x * x
    }
    let mean = sum / Double(count)
    let variance = sumOfSquares / Double(count) - mean * mean
    // Standard errors: 1/sqrt(n) = 0.0022 for the mean, sqrt(2/n) = 0.0032
    // for the variance; 5 standard errors each.
    #expect(abs(mean) < 0.011)
    #expect(abs(variance - 1) < 0.016)
  }
}
