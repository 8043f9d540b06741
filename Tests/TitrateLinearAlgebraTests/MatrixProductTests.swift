import Testing
import TitrateLinearAlgebra

/// Reference product by the textbook triple loop, in Double.
private func naiveProduct(
  _ a: Matrix, transposeA: Bool, _ b: Matrix, transposeB: Bool,
  alpha: Float, beta: Float, c: Matrix
) -> Matrix {
  let opA = transposeA ? a.transposed() : a
  let opB = transposeB ? b.transposed() : b
  var result = c
  for row in 0..<opA.rows {
    for column in 0..<opB.columns {
      var sum = 0.0
      for index in 0..<opA.columns {
        sum += Double(opA[row, index]) * Double(opB[index, column])
      }
      let previous = beta == 0 ? 0 : Double(beta) * Double(c[row, column])
      result[row, column] = Float(Double(alpha) * sum + previous)
    }
  }
  return result
}

/// Uniform values in [-1, 1) from a small linear congruential sequence, so
/// the test needs no other target.
private func pseudoRandomMatrix(rows: Int, columns: Int, seed: inout UInt64) -> Matrix {
  var values = [Float]()
  for _ in 0..<(rows * columns) {
    seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    values.append(Float(seed >> 40) / Float(1 << 23) - 1)
  }
  return Matrix(rows: rows, columns: columns, values: values)
}

@Suite struct MatrixProductTests {
  @Test func handWorkedProduct() {
    // [1 2 3; 4 5 6] x [7 8; 9 10; 11 12] = [58 64; 139 154]
    let a = Matrix(rows: 2, columns: 3, values: [1, 2, 3, 4, 5, 6])
    let b = Matrix(rows: 3, columns: 2, values: [7, 8, 9, 10, 11, 12])
    var c = Matrix(rows: 0, columns: 0)
    matrixProduct(a, b, into: &c)
    #expect(c.rows == 2)
    #expect(c.columns == 2)
    #expect(c.values == [58, 64, 139, 154])
  }

  @Test func handWorkedTransposeAndAccumulate() {
    // a^T x b^T with a = [1 4; 2 5; 3 6] (so a^T = [1 2 3; 4 5 6]) and
    // b = [7 9 11; 8 10 12]; 2 * [58 64; 139 154] + 1 * [1 1; 1 1].
    let a = Matrix(rows: 3, columns: 2, values: [1, 4, 2, 5, 3, 6])
    let b = Matrix(rows: 2, columns: 3, values: [7, 9, 11, 8, 10, 12])
    var c = Matrix(rows: 2, columns: 2, repeating: 1)
    matrixProduct(a, transposeA: true, b, transposeB: true, alpha: 2, beta: 1, into: &c)
    #expect(c.values == [117, 129, 279, 309])
  }

  @Test(arguments: [false, true], [false, true])
  func randomShapesMatchNaiveLoop(transposeA: Bool, transposeB: Bool) {
    var seed: UInt64 = 42
    let shapes = [(1, 1, 1), (3, 5, 2), (7, 1, 9), (16, 64, 33), (65, 17, 64)]
    for (m, k, n) in shapes {
      let a =
        transposeA
        ? pseudoRandomMatrix(rows: k, columns: m, seed: &seed)
        : pseudoRandomMatrix(rows: m, columns: k, seed: &seed)
      let b =
        transposeB
        ? pseudoRandomMatrix(rows: n, columns: k, seed: &seed)
        : pseudoRandomMatrix(rows: k, columns: n, seed: &seed)
      let c0 = pseudoRandomMatrix(rows: m, columns: n, seed: &seed)
      for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1), (-2, 0.25)] {
        var c = c0
        matrixProduct(
          a, transposeA: transposeA, b, transposeB: transposeB,
          alpha: alpha, beta: beta, into: &c)
        let expected = naiveProduct(
          a, transposeA: transposeA, b, transposeB: transposeB,
          alpha: alpha, beta: beta, c: c0)
        // Float sums of k <= 64 terms of size <= 1 with |alpha| <= 2.
        let tolerance = Float(1e-4) * Float(k)
        for index in c.values.indices {
          #expect(abs(c.values[index] - expected.values[index]) <= tolerance)
        }
      }
    }
  }

  /// `PolicyEvaluator` starts each layer from its bias and accumulates the
  /// product with beta 1. That must round as a beta-0 product followed by
  /// `addBias`, for the policy network's shapes (128-row tiles and the
  /// 32-row remainder of 100,000 rows, the earlier 512-row tiles and their
  /// 160-row remainder, and a single row).
  @Test(arguments: [512, 160, 128, 32, 7, 1])
  func productOntoBiasEqualsProductPlusBias(rows: Int) {
    var seed: UInt64 = UInt64(rows)
    for (inner, columns) in [(21, 64), (64, 64), (64, 13)] {
      let a = pseudoRandomMatrix(rows: rows, columns: inner, seed: &seed)
      let b = pseudoRandomMatrix(rows: inner, columns: columns, seed: &seed)
      let bias = pseudoRandomMatrix(rows: 1, columns: columns, seed: &seed).values
      var expected = Matrix(rows: 0, columns: 0)
      matrixProduct(a, b, into: &expected)
      addBias(bias, to: &expected)
      var onto = Matrix(
        rows: rows, columns: columns,
        values: Array([[Float]](repeating: bias, count: rows).joined()))
      matrixProduct(a, b, beta: 1, into: &onto)
      #expect(
        onto.values.map(\.bitPattern) == expected.values.map(\.bitPattern),
        "\(rows) x \(inner) x \(columns)")
    }
  }

  @Test func emptyInnerDimensionScalesC() {
    let a = Matrix(rows: 2, columns: 0)
    let b = Matrix(rows: 0, columns: 3)
    var c = Matrix(rows: 2, columns: 3, repeating: 4)
    matrixProduct(a, b, alpha: 1, beta: 0.5, into: &c)
    #expect(c.values == [Float](repeating: 2, count: 6))
  }
}

@Suite struct VectorOperationTests {
  @Test func biasAddsToEveryRow() {
    var m = Matrix(rows: 2, columns: 3, values: [1, 2, 3, 4, 5, 6])
    addBias([10, 20, 30], to: &m)
    #expect(m.values == [11, 22, 33, 14, 25, 36])
  }

  @Test func columnSumsOverwriteAndAccumulate() {
    let m = Matrix(rows: 3, columns: 2, values: [1, 2, 3, 4, 5, 6])
    var sums: [Float] = []
    columnSums(of: m, into: &sums)
    #expect(sums == [9, 12])
    columnSums(of: m, into: &sums, accumulate: true)
    #expect(sums == [18, 24])
  }

  @Test func axpyScaleDot() {
    var y: [Float] = [1, 1, 1]
    axpy(alpha: 2, x: [1, 2, 3], y: &y)
    #expect(y == [3, 5, 7])
    scale(&y, by: 0.5)
    #expect(y == [1.5, 2.5, 3.5])
    #expect(dot([1, 2, 3], [4, 5, 6]) == 32)
  }

  @Test func threadCountRoundTrips() {
    let before = BLASThreads.count
    BLASThreads.set(1)
    #expect(BLASThreads.count == 1)
    BLASThreads.set(before)
    #expect(BLASThreads.count == before)
  }
}
