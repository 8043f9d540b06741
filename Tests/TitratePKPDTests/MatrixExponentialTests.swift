import Foundation
import Testing

@testable import TitratePKPD

@Suite struct MatrixExponentialTests {
  @Test func diagonalMatrix() {
    let diagonal = [-2.0, 0.0, 0.5, 7.0]
    var matrix = [Double](repeating: 0, count: 16)
    for i in 0..<4 { matrix[i * 4 + i] = diagonal[i] }
    let result = matrixExponential(matrix, dimension: 4)
    for i in 0..<4 {
      for j in 0..<4 {
        let expected = i == j ? exp(diagonal[i]) : 0
        #expect(relativeError(result[i * 4 + j], expected, floor: 1) <= 1e-14)
      }
    }
  }

  @Test func nilpotentMatrix() {
    // N strictly upper triangular with N^3 = 0: e^N = I + N + N^2 / 2.
    let matrix: [Double] = [0, 2, 3, 0, 0, 5, 0, 0, 0]
    let expected: [Double] = [1, 2, 3 + 2 * 5 / 2.0, 0, 1, 5, 0, 0, 1]
    let result = matrixExponential(matrix, dimension: 3)
    for index in 0..<9 {
      #expect(abs(result[index] - expected[index]) <= 1e-14 * 10)
    }
  }

  @Test(arguments: [0.001, 0.7, 3.0, 40.0])
  func rotationMatrix(angle: Double) {
    // e^[[0, -a], [a, 0]] is the rotation by a; large a needs squarings.
    let result = matrixExponential([0, -angle, angle, 0], dimension: 2)
    let expected = [cos(angle), -sin(angle), sin(angle), cos(angle)]
    for index in 0..<4 {
      #expect(abs(result[index] - expected[index]) <= 1e-13 * max(1, angle))
    }
  }

  @Test func zeroMatrixGivesIdentity() {
    #expect(matrixExponential([0, 0, 0, 0], dimension: 2) == [1, 0, 0, 1])
  }

  /// Reference: scipy.linalg.expm, written by
  /// `python3 scripts/reference_pk.py` to Tests/Fixtures/pk/expm_random.json.
  @Test func randomMatricesMatchScipy() throws {
    let fixture = try loadFixture(MatrixExponentialFixture.self, named: "expm_random.json")
    #expect(fixture.cases.count >= 5)
    for testCase in fixture.cases {
      let result = matrixExponential(testCase.matrix, dimension: testCase.dimension)
      // Error relative to the largest entry of the result: both methods are
      // backward stable, so they agree to a modest multiple of round-off
      // times the condition of the problem.
      let scale = testCase.exponential.map(abs).max() ?? 1
      let worst = zip(result, testCase.exponential).map { abs($0 - $1) }.max() ?? 0
      #expect(
        worst / scale <= 1e-12,
        "dimension \(testCase.dimension): max error \(worst) vs scale \(scale)")
    }
  }
}
