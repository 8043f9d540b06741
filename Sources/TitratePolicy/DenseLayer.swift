import TitrateLinearAlgebra
import TitrateRandom

/// A fully connected layer `y = x W^T + b` over a batch of row vectors.
public struct DenseLayer: Sendable, Equatable {
  /// `outputSize x inputSize`, so row `j` contains the weights into output `j`
  /// (the PyTorch `nn.Linear` layout, readable by numpy as `x @ W.T + b`).
  public var weight: Matrix
  /// One bias per output.
  public var bias: [Float]

  /// Creates a layer from its weight and bias.
  /// - Precondition: `bias.count == weight.rows`.
  public init(weight: Matrix, bias: [Float]) {
    precondition(
      bias.count == weight.rows,
      "dense layer bias has \(bias.count) entries for \(weight.rows) outputs")
    self.weight = weight
    self.bias = bias
  }

  /// Creates a layer with orthogonal weights scaled by `gain` and zero
  /// biases (Saxe, McClelland and Ganguli 2014, "Exact solutions to the
  /// nonlinear dynamics of learning in deep linear neural networks").
  ///
  /// A Gaussian `max(out, in) x min(out, in)` matrix is orthonormalised
  /// column by column with modified Gram-Schmidt in Double, which equals
  /// the Q factor of a QR decomposition whose R has a positive diagonal.
  /// The result, transposed when `out < in`, has orthonormal rows or
  /// columns.
  public init(inputSize: Int, outputSize: Int, gain: Float, generator: inout Xoshiro256) {
    precondition(inputSize > 0 && outputSize > 0, "layer sizes must be positive, got \(inputSize) -> \(outputSize)")
    let tallRows = max(inputSize, outputSize)
    let tallColumns = min(inputSize, outputSize)
    // Column-major scratch: column c occupies [c * tallRows, (c + 1) * tallRows).
    var columns = [Double](repeating: 0, count: tallRows * tallColumns)
    for index in columns.indices { columns[index] = generator.nextStandardNormal() }
    for column in 0..<tallColumns {
      let base = column * tallRows
      for previous in 0..<column {
        let previousBase = previous * tallRows
        var projection = 0.0
        for row in 0..<tallRows { projection += columns[previousBase + row] * columns[base + row] }
        for row in 0..<tallRows { columns[base + row] -= projection * columns[previousBase + row] }
      }
      var squaredNorm = 0.0
      for row in 0..<tallRows { squaredNorm += columns[base + row] * columns[base + row] }
      // A Gaussian column lies in the span of the previous ones with
      // probability 0, so the norm is positive.
      let inverseNorm = 1 / squaredNorm.squareRoot()
      for row in 0..<tallRows { columns[base + row] *= inverseNorm }
    }
    var weight = Matrix(rows: outputSize, columns: inputSize)
    for column in 0..<tallColumns {
      for row in 0..<tallRows {
        let value = Float(columns[column * tallRows + row]) * gain
        if outputSize >= inputSize {
          weight[row, column] = value
        } else {
          weight[column, row] = value
        }
      }
    }
    self.init(weight: weight, bias: [Float](repeating: 0, count: outputSize))
  }

  /// Number of inputs per sample.
  public var inputSize: Int { weight.columns }
  /// Number of outputs per sample.
  public var outputSize: Int { weight.rows }
  /// Number of weights and biases.
  public var parameterCount: Int { weight.values.count + bias.count }

  /// Computes `output = input W^T + b` for a `batch x inputSize` input.
  public func forward(_ input: Matrix, into output: inout Matrix) {
    matrixProduct(input, weight, transposeB: true, into: &output)
    addBias(bias, to: &output)
  }
}
