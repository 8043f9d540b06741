import Foundation
import Testing
import TitrateKernels
import TitrateLinearAlgebra
import TitrateRandom

@testable import TitratePolicy

@Suite struct MLPTests {
  /// Checks parameter and input gradients of `loss = sum(c * MLP(x))`.
  private func checkGradients(hiddenSizes: [Int]) {
    var generator = Xoshiro256(seed: 7)
    var network = MLP(
      inputSize: 4, hiddenSizes: hiddenSizes, outputSize: 3, outputGain: 1,
      generator: &generator)
    // Non-zero biases so their gradients matter.
    var parameters: [Float] = []
    network.appendParameters(to: &parameters)
    for index in parameters.indices where parameters[index] == 0 {
      parameters[index] = 0.3 * Float(generator.nextStandardNormal())
    }
    network.setParameters(from: parameters, offset: 0)
    let input = gaussianMatrix(rows: 5, columns: 4, generator: &generator)
    let coefficients = gaussianMatrix(rows: 5, columns: 3, generator: &generator)

    var trace = MLPTrace()
    network.forward(input, trace: &trace)
    var gradient = [Float](repeating: .nan, count: network.parameterCount + 2)
    network.backward(
      trace: &trace, outputGradient: coefficients, gradient: &gradient, offset: 1,
      computeInputGradient: true)

    let numericParameters = numericGradient(at: parameters, step: 1e-3) { point in
      var perturbed = network
      perturbed.setParameters(from: point, offset: 0)
      return weightedSum(perturbed.forward(input), coefficients)
    }
    let analyticParameters = Array(gradient[1...network.parameterCount])
    #expect(worstGradientMismatch(numeric: numericParameters, analytic: analyticParameters) <= 0)
    #expect(gradient[0].isNaN, "backward wrote before its offset")
    #expect(gradient[network.parameterCount + 1].isNaN, "backward wrote past its slice")

    let numericInput = numericGradient(at: input.values, step: 1e-3) { point in
      weightedSum(network.forward(Matrix(rows: 5, columns: 4, values: point)), coefficients)
    }
    #expect(worstGradientMismatch(numeric: numericInput, analytic: trace.inputGradient.values) <= 0)
  }

  @Test func denseLayerGradients() { checkGradients(hiddenSizes: []) }

  @Test func tanhLayerGradients() { checkGradients(hiddenSizes: [6, 5]) }

  @Test func forwardMatchesHandComputedLayers() {
    // One tanh layer 2 -> 2 and a linear output 2 -> 1.
    let hidden = DenseLayer(
      weight: Matrix(rows: 2, columns: 2, values: [1, -1, 0.5, 2]), bias: [0.1, -0.2])
    let output = DenseLayer(weight: Matrix(rows: 1, columns: 2, values: [3, -1]), bias: [0.5])
    let network = MLP(layers: [hidden, output])
    let result = network.forward(Matrix(rows: 1, columns: 2, values: [0.3, 0.7]))
    let h0 = tanhf(0.3 - 0.7 + 0.1)
    let h1 = tanhf(0.15 + 1.4 - 0.2)
    #expect(abs(result.values[0] - (3 * h0 - h1 + 0.5)) <= 1e-6)
  }

  @Test(arguments: [(5, 3), (3, 5), (4, 4)])
  func orthogonalInitialisation(inputSize: Int, outputSize: Int) {
    var generator = Xoshiro256(seed: 11)
    let gain: Float = 2
    let layer = DenseLayer(
      inputSize: inputSize, outputSize: outputSize, gain: gain, generator: &generator)
    #expect(layer.bias == [Float](repeating: 0, count: outputSize))
    // The smaller Gram matrix (W W^T or W^T W) equals gain^2 I.
    var gram = Matrix(rows: 0, columns: 0)
    let tall = outputSize >= inputSize
    matrixProduct(layer.weight, transposeA: tall, layer.weight, transposeB: !tall, into: &gram)
    for row in 0..<gram.rows {
      for column in 0..<gram.columns {
        let expected: Float = row == column ? gain * gain : 0
        #expect(abs(gram[row, column] - expected) <= 1e-5)
      }
    }
  }

  @Test func initialisationIsSeeded() {
    var first = Xoshiro256(seed: 3)
    var second = Xoshiro256(seed: 3)
    let a = MLP(inputSize: 8, hiddenSizes: [16], outputSize: 2, outputGain: 0.01, generator: &first)
    let b = MLP(
      inputSize: 8, hiddenSizes: [16], outputSize: 2, outputGain: 0.01, generator: &second)
    #expect(a == b)
  }
}

@Suite struct FastTanhTests {
  @Test func matchesDoubleTanhInAbsoluteError() {
    // 1.2 million points, spacing 1e-5, through the clamp at 9. The odd
    // symmetry test covers negative arguments.
    var worst = 0.0
    var worstArgument: Float = 0
    for index in 0...1_200_000 {
      let x = Float(index) * 1e-5
      let error = abs(Double(fastTanh(x)) - Foundation.tanh(Double(x)))
      if error > worst {
        worst = error
        worstArgument = x
      }
    }
    // The fit's own float32 check gives 4.1e-7 (3.5 ulps of 1).
    #expect(worst <= 4.5e-7, "max error \(worst) at x = \(worstArgument)")
  }

  @Test func keepsRelativeAccuracyNearZero() {
    var x: Float = 1e-30
    while x < 1e-2 {
      let relativeError = abs(Double(fastTanh(x)) / Foundation.tanh(Double(x)) - 1)
      #expect(relativeError <= 2.5e-7, "x = \(x)")
      x *= 3.1
    }
    #expect(fastTanh(0) == 0)
    #expect(fastTanh(.leastNonzeroMagnitude) == .leastNonzeroMagnitude)
  }

  @Test func saturatesToExactlyOne() {
    for x: Float in [9, 9.001, 10, 20, 100, 1e10, .greatestFiniteMagnitude, .infinity] {
      #expect(fastTanh(x) == 1, "x = \(x)")
      #expect(fastTanh(-x) == -1, "x = \(-x)")
    }
    // The values never exceed 1 in magnitude. Rounding makes the function
    // not quite monotonic near 1, so only the bound is checked.
    var x: Float = 0
    while x <= 12 {
      #expect(fastTanh(x) <= 1, "x = \(x)")
      x += 0.0005
    }
    #expect(fastTanh(.nan).isNaN)
    #expect(fastTanh(-.nan).isNaN)
  }

  @Test func keepsSignOfZeroAndOddSymmetry() {
    #expect(fastTanh(-0.0).sign == .minus)
    var x: Float = 0.0001
    while x <= 20 {
      #expect(fastTanh(-x) == -fastTanh(x), "x = \(x)")
      x *= 1.37
    }
  }

  @Test func biasKernelMatchesScalarTanh() {
    var values: [Float] = (0..<60).map { Float($0) * 0.37 - 11 }
    let bias: [Float] = [0.5, -0.25, 3, 0, -7, 1e-3]
    let expected = values.indices.map { fastTanh(values[$0] + bias[$0 % 6]) }
    values.withUnsafeMutableBufferPointer { buffer in
      bias.withUnsafeBufferPointer { biasBuffer in
        addBiasAndApplyFastTanh(
          buffer.baseAddress!, rows: 10, columns: 6, bias: biasBuffer.baseAddress!)
      }
    }
    #expect(values.map(\.bitPattern) == expected.map(\.bitPattern))
  }
}
