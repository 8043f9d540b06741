import TitrateSodium

/// The SecAgg+ communication graph (Bell et al. 2020): participants are
/// shuffled into a ring, and each is joined to the k / 2 nearest on each
/// side. With k >= n - 1 every pair is joined, which is the original
/// SecAgg (Bonawitz et al. 2017).
public struct NeighbourGraph: Sendable, Equatable {
  /// Neighbour lists by protocol id, each sorted, never containing the
  /// site itself.
  public let neighbours: [UInt32: [UInt32]]

  /// Builds the graph over `participants` with `neighbourCount` k.
  /// - Precondition: k is even or k >= n - 1.
  public init(participants: [UInt32], neighbourCount k: Int, randomness: inout RandomByteSource) {
    let n = participants.count
    precondition(
      k >= n - 1 || k % 2 == 0, "NeighbourGraph: k = \(k) must be even or at least n - 1 = \(n - 1)")
    var ring = participants.sorted()
    // Fisher-Yates with rejection sampling, so that every order is equally
    // likely and the server cannot pick neighbourhoods.
    if n > 1 {
      for position in stride(from: n - 1, to: 0, by: -1) {
        let bound = UInt64(position + 1)
        let limit = UInt64.max - UInt64.max % bound
        var word = randomness.word()
        while word >= limit { word = randomness.word() }
        ring.swapAt(position, Int(word % bound))
      }
    }
    var lists: [UInt32: [UInt32]] = [:]
    for (position, site) in ring.enumerated() {
      if k >= n - 1 {
        lists[site] = participants.filter { $0 != site }.sorted()
      } else {
        var set: Set<UInt32> = []
        for offset in 1...(k / 2) {
          set.insert(ring[(position + offset) % n])
          set.insert(ring[(position - offset + n) % n])
        }
        lists[site] = set.sorted()
      }
    }
    neighbours = lists
  }
}
