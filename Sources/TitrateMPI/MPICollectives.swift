import CMPI

/// Element types the collectives carry, with their MPI datatype.
public protocol MPIElement: BitwiseCopyable {
  /// The matching predefined MPI datatype handle.
  static var mpiDatatype: MPI_Datatype { get }
}

extension UInt8: MPIElement {
  public static var mpiDatatype: MPI_Datatype { titrate_MPI_BYTE()! }
}

extension Float: MPIElement {
  public static var mpiDatatype: MPI_Datatype { titrate_MPI_FLOAT()! }
}

extension Double: MPIElement {
  public static var mpiDatatype: MPI_Datatype { titrate_MPI_DOUBLE()! }
}

extension Int64: MPIElement {
  public static var mpiDatatype: MPI_Datatype { titrate_MPI_INT64_T()! }
}

extension MPICommunicator {
  /// Replaces `values` on every rank by the element-wise sum over all
  /// ranks. Every rank must pass the same count.
  ///
  /// The order in which Open MPI adds the ranks' values depends on its
  /// reduction algorithm, so a Float or Double sum can differ in the last
  /// bits from a sequential sum in rank order.
  /// Calls `MPI_Allreduce` with `MPI_SUM`.
  public func allreduceSum<Element: MPIElement & AdditiveArithmetic>(
    _ values: inout [Element]
  ) throws(MPIError) {
    let count = try int32Count(values.count, call: "MPI_Allreduce")
    let code = values.withUnsafeMutableBytes { buffer in
      MPI_Allreduce(
        titrate_MPI_IN_PLACE(), buffer.baseAddress, count, Element.mpiDatatype,
        titrate_MPI_SUM(), handle)
    }
    try check(code, "MPI_Allreduce")
  }

  /// Adds `values` element-wise over all ranks into `root`'s array and
  /// leaves the other ranks' arrays unchanged. Every rank must pass the same
  /// count.
  ///
  /// Only `root` receives data, so this moves less than `allreduceSum`
  /// when one rank needs the sum. As there, the order of the additions
  /// is Open MPI's choice, so the last bits of a Float or Double sum can
  /// differ from a sequential sum in rank order.
  /// Calls `MPI_Reduce` with `MPI_SUM`, in place on `root`.
  public func reduceSum<Element: MPIElement & AdditiveArithmetic>(
    _ values: inout [Element], root: Int
  ) throws(MPIError) {
    let count = try int32Count(values.count, call: "MPI_Reduce")
    let isRoot = rank == root
    let code = values.withUnsafeMutableBytes { buffer in
      // MPI_IN_PLACE is valid only on the root. The other ranks send their
      // buffer and receive nothing.
      let send: UnsafeRawPointer? =
        isRoot ? UnsafeRawPointer(titrate_MPI_IN_PLACE()) : UnsafeRawPointer(buffer.baseAddress)
      let receive = isRoot ? buffer.baseAddress : nil
      return MPI_Reduce(
        send, receive, count, Element.mpiDatatype, titrate_MPI_SUM(), Int32(root), handle)
    }
    try check(code, "MPI_Reduce")
  }

  /// Sends `values` from `root` to every rank; on the other ranks the
  /// array is replaced, whatever its length was. Calls `MPI_Bcast` twice:
  /// once for the count, once for the elements.
  public func broadcast<Element: MPIElement>(
    _ values: inout [Element], root: Int
  ) throws(MPIError) {
    var count = [Int64(rank == root ? values.count : 0)]
    try broadcastFixed(&count, root: root)
    let length = Int(count[0])
    if rank != root {
      values = [Element](unsafeUninitializedCapacity: length) { _, initialized in
        initialized = length
      }
    }
    try broadcastFixed(&values, root: root)
  }

  /// Collects every rank's `values` at `root`, in rank order. Ranks may
  /// send different counts, including none. Returns one array per rank on
  /// `root` and an empty array elsewhere.
  /// Calls `MPI_Gather` for the counts, then `MPI_Gatherv`.
  public func gather<Element: MPIElement>(
    _ values: [Element], root: Int
  ) throws(MPIError) -> [[Element]] {
    let sendCount = try int32Count(values.count, call: "MPI_Gatherv")
    var counts = [Int32](repeating: 0, count: rank == root ? size : 0)
    var ownCount = sendCount
    let countCode = counts.withUnsafeMutableBytes { receive in
      MPI_Gather(
        &ownCount, 1, titrate_MPI_INT(), receive.baseAddress, 1, titrate_MPI_INT(),
        Int32(root), handle)
    }
    try check(countCode, "MPI_Gather")

    var displacements = [Int32](repeating: 0, count: counts.count)
    var total = 0
    for index in counts.indices {
      displacements[index] = try int32Count(total, call: "MPI_Gatherv")
      total += Int(counts[index])
    }
    _ = try int32Count(total, call: "MPI_Gatherv")
    var received = [Element](unsafeUninitializedCapacity: total) { _, initialized in
      initialized = total
    }
    let code = values.withUnsafeBytes { send in
      received.withUnsafeMutableBytes { receive in
        MPI_Gatherv(
          send.baseAddress, sendCount, Element.mpiDatatype, receive.baseAddress, counts,
          displacements, Element.mpiDatatype, Int32(root), handle)
      }
    }
    try check(code, "MPI_Gatherv")
    guard rank == root else { return [] }
    return counts.indices.map { index in
      let start = Int(displacements[index])
      return Array(received[start..<start + Int(counts[index])])
    }
  }

  /// Broadcasts an array whose length every rank already has.
  private func broadcastFixed<Element: MPIElement>(
    _ values: inout [Element], root: Int
  ) throws(MPIError) {
    let count = try int32Count(values.count, call: "MPI_Bcast")
    let code = values.withUnsafeMutableBytes { buffer in
      MPI_Bcast(buffer.baseAddress, count, Element.mpiDatatype, Int32(root), handle)
    }
    try check(code, "MPI_Bcast")
  }

  /// MPI counts are C ints; larger messages must be split by the caller.
  private func int32Count(_ count: Int, call: String) throws(MPIError) -> Int32 {
    guard let value = Int32(exactly: count) else {
      throw MPIError(
        call: call, code: -1,
        message: "\(count) elements exceed the MPI count limit of \(Int32.max); "
          + "split the data into smaller messages or spread it over more ranks")
    }
    return value
  }
}
