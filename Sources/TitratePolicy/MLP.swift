import TitrateLinearAlgebra
import TitrateRandom

/// A multilayer perceptron with tanh hidden layers and a linear output,
/// evaluated over a whole batch (`batch x features`) with `cblas_sgemm`.
///
/// Flat parameter order (used by `appendParameters` and gradients): for
/// each layer in turn, its weight in row-major `out x in` order, then its
/// bias.
public struct MLP: Sendable, Equatable {
  /// The layers from input to output.
  public var layers: [DenseLayer]

  /// Creates a network from existing layers.
  /// - Precondition: at least one layer, and each layer's input size equals
  ///   the previous layer's output size.
  public init(layers: [DenseLayer]) {
    precondition(!layers.isEmpty, "an MLP needs at least one layer")
    for index in 1..<layers.count {
      precondition(
        layers[index].inputSize == layers[index - 1].outputSize,
        "layer \(index) takes \(layers[index].inputSize) inputs but layer \(index - 1) "
          + "produces \(layers[index - 1].outputSize)")
    }
    self.layers = layers
  }

  /// Creates an orthogonally initialised network: gain sqrt(2) on hidden
  /// layers, `outputGain` on the output layer (0.01 for a policy, 1 for a
  /// value function, as in the PPO implementations of Huang et al. 2022),
  /// zero biases.
  /// - Parameters:
  ///   - hiddenSizes: widths of the tanh layers, each positive; may be empty.
  public init(
    inputSize: Int, hiddenSizes: [Int], outputSize: Int, outputGain: Float,
    generator: inout Xoshiro256
  ) {
    var layers = [DenseLayer]()
    var previous = inputSize
    for width in hiddenSizes {
      layers.append(
        DenseLayer(
          inputSize: previous, outputSize: width, gain: Float(2).squareRoot(),
          generator: &generator))
      previous = width
    }
    layers.append(
      DenseLayer(
        inputSize: previous, outputSize: outputSize, gain: outputGain, generator: &generator))
    self.init(layers: layers)
  }

  /// Number of inputs per sample.
  public var inputSize: Int { layers[0].inputSize }
  /// Number of outputs per sample.
  public var outputSize: Int { layers[layers.count - 1].outputSize }
  /// Number of weights and biases over all layers.
  public var parameterCount: Int { layers.reduce(0) { $0 + $1.parameterCount } }

  /// Appends every parameter in flat order to `vector`.
  public func appendParameters(to vector: inout [Float]) {
    for layer in layers {
      vector.append(contentsOf: layer.weight.values)
      vector.append(contentsOf: layer.bias)
    }
  }

  /// Reads every parameter in flat order from `vector`, starting at
  /// `offset`, and returns the offset just past them.
  @discardableResult
  public mutating func setParameters(from vector: [Float], offset: Int) -> Int {
    precondition(
      offset >= 0 && offset + parameterCount <= vector.count,
      "parameter vector of \(vector.count) is too short for \(parameterCount) values at \(offset)")
    var position = offset
    vector.withUnsafeBufferPointer { source in
      for index in layers.indices {
        let weightCount = layers[index].weight.values.count
        layers[index].weight.values.withUnsafeMutableBufferPointer { target in
          target.baseAddress!.update(from: source.baseAddress! + position, count: weightCount)
        }
        position += weightCount
        let biasCount = layers[index].bias.count
        layers[index].bias.withUnsafeMutableBufferPointer { target in
          target.baseAddress!.update(from: source.baseAddress! + position, count: biasCount)
        }
        position += biasCount
      }
    }
    return position
  }

  /// Returns the outputs for a `batch x inputSize` input.
  public func forward(_ input: Matrix) -> Matrix {
    var trace = MLPTrace()
    forward(input, trace: &trace)
    return trace.output
  }

  /// Evaluates the network and keeps in `trace` what `backward` needs.
  /// `trace` is reused between calls of the same batch size without
  /// reallocating.
  public func forward(_ input: Matrix, trace: inout MLPTrace) {
    precondition(
      input.columns == inputSize,
      "MLP expects \(inputSize) input features, got \(input.columns)")
    if trace.layerInputs.count != layers.count {
      trace.layerInputs = [Matrix](repeating: Matrix(rows: 0, columns: 0), count: layers.count)
    }
    trace.layerInputs[0] = input
    for index in layers.indices {
      let isOutput = index == layers.count - 1
      if isOutput {
        layers[index].forward(trace.layerInputs[index], into: &trace.output)
      } else {
        // x W^T, then the bias added and tanh taken in one pass, rounded as
        // `DenseLayer.forward` followed by tanh.
        matrixProduct(
          trace.layerInputs[index], layers[index].weight, transposeB: true,
          into: &trace.layerInputs[index + 1])
        addBiasAndApplyTanh(layers[index].bias, to: &trace.layerInputs[index + 1])
      }
    }
  }

  /// Back-propagates `outputGradient` (dLoss/dOutput, `batch x outputSize`)
  /// through the batch recorded in `trace`.
  ///
  /// - Parameters:
  ///   - gradient: receives dLoss/dParameters in flat order at
  ///     `gradient[offset ..< offset + parameterCount]`, overwriting what
  ///     was there (summed over the batch).
  ///   - computeInputGradient: when true, `trace.inputGradient` receives
  ///     dLoss/dInput (`batch x inputSize`).
  public func backward(
    trace: inout MLPTrace, outputGradient: Matrix, gradient: inout [Float], offset: Int,
    computeInputGradient: Bool = false
  ) {
    let batch = outputGradient.rows
    precondition(
      outputGradient.columns == outputSize && trace.output.rows == batch,
      "output gradient \(outputGradient.rows)x\(outputGradient.columns) does not match "
        + "the traced output \(trace.output.rows)x\(outputSize)")
    precondition(
      offset >= 0 && offset + parameterCount <= gradient.count, "gradient buffer too short")

    // Parameter offsets of each layer in the flat order.
    var layerOffsets = [Int]()
    var position = offset
    for layer in layers {
      layerOffsets.append(position)
      position += layer.parameterCount
    }

    // `delta` is dLoss/d(pre-activation) of the current layer.
    trace.delta = outputGradient
    for index in layers.indices.reversed() {
      let layer = layers[index]
      let input = trace.layerInputs[index]
      let weightOffset = layerOffsets[index]
      let biasOffset = weightOffset + layer.weight.values.count

      // dW = delta^T x input, written straight into the flat gradient.
      trace.delta.values.withUnsafeBufferPointer { deltaBuffer in
        input.values.withUnsafeBufferPointer { inputBuffer in
          gradient.withUnsafeMutableBufferPointer { gradientBuffer in
            matrixProduct(
              rows: layer.outputSize, columns: layer.inputSize, inner: batch,
              a: deltaBuffer.baseAddress, leadingA: layer.outputSize, transposeA: true,
              b: inputBuffer.baseAddress, leadingB: layer.inputSize, transposeB: false,
              alpha: 1, beta: 0,
              c: gradientBuffer.baseAddress! + weightOffset, leadingC: layer.inputSize)
          }
        }
      }
      // db = column sums of delta.
      columnSums(of: trace.delta, into: &trace.biasGradient)
      for element in 0..<layer.outputSize {
        gradient[biasOffset + element] = trace.biasGradient[element]
      }

      let needsInputGradient = index > 0 || computeInputGradient
      guard needsInputGradient else { break }
      // dLoss/dInput = delta x W.
      matrixProduct(trace.delta, layer.weight, into: &trace.inputDelta)
      if index > 0 {
        // The input of this layer is tanh(z) of the previous one, and
        // d tanh(z)/dz = 1 - tanh(z)^2.
        multiplyByTanhDerivative(&trace.inputDelta, activations: input)
        swap(&trace.delta, &trace.inputDelta)
      } else {
        swap(&trace.inputGradient, &trace.inputDelta)
      }
    }
  }
}

/// Activations kept by `MLP.forward(_:trace:)` for the backward pass, plus
/// scratch buffers reused between minibatches.
public struct MLPTrace: Sendable {
  /// `layerInputs[i]` is the input of layer `i`; entry 0 is the network input.
  public internal(set) var layerInputs: [Matrix] = []
  /// Output of the last forward pass, `batch x outputSize`.
  public internal(set) var output = Matrix(rows: 0, columns: 0)
  /// dLoss/dInput of the last `backward` call that asked for it.
  public internal(set) var inputGradient = Matrix(rows: 0, columns: 0)
  var delta = Matrix(rows: 0, columns: 0)
  var inputDelta = Matrix(rows: 0, columns: 0)
  var biasGradient: [Float] = []

  /// Creates an empty trace; the first forward pass sizes it.
  public init() {}
}

private func addBiasAndApplyTanh(_ bias: [Float], to matrix: inout Matrix) {
  let rows = matrix.rows
  let columns = matrix.columns
  precondition(bias.count == columns, "bias length \(bias.count) differs from \(columns) columns")
  guard rows > 0, columns > 0 else { return }
  bias.withUnsafeBufferPointer { biasBuffer in
    matrix.values.withUnsafeMutableBufferPointer { buffer in
      ElementwiseKernels.selected.addBiasAndApplyFastTanh(
        buffer.baseAddress!, rows: rows, columns: columns, bias: biasBuffer.baseAddress!)
    }
  }
}

private func multiplyByTanhDerivative(_ gradient: inout Matrix, activations: Matrix) {
  activations.values.withUnsafeBufferPointer { activationBuffer in
    gradient.values.withUnsafeMutableBufferPointer { buffer in
      for index in buffer.indices {
        let value = activationBuffer[index]
        buffer[index] *= 1 - value * value
      }
    }
  }
}
