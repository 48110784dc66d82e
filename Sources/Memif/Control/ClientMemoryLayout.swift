/// Where a client puts its rings and buffers (reference section 2.1). Rings sit back to
/// back from offset 0 of region 0: client-to-server rings first, then server-to-client.
/// Buffers follow ring by ring in the same order, from `buffersOffset` of `bufferRegion`:
/// `T * N` for each ring (`T` buffers per slot: the packet at free-running position `p`
/// goes into the ring's buffer `p mod T * N`). With `T = 1` this is DPDK's layout.
/// Zero-copy forwarding may later swap buffers between slots. With a ``MemifBufferPool``,
/// region 0 holds the rings only and region 1 is the pool.
struct ClientMemoryLayout: Equatable {
    let ringBytes: Int
    let ringCount: Int
    let slots: Int
    let bufferSize: Int
    let bufferRegion: UInt16
    let buffersOffset: UInt64
    let clientToServerRings: Int
    /// Buffers per slot of every ring (1 with a pool).
    let buffersPerSlot: Int
    /// Bytes of the pool's region, when buffers come from a pool.
    let poolBytes: UInt64?

    init(configuration c: MemifConfiguration, log2RingSize: UInt8, clientToServer: Int? = nil, serverToClient: Int? = nil) {
        let s = clientToServer ?? c.clientToServerQueues
        let m = serverToClient ?? c.serverToClientQueues
        ringBytes = c.ringLayout.ringBytes(log2RingSize: log2RingSize)
        ringCount = s + m
        clientToServerRings = s
        slots = 1 << Int(log2RingSize)
        bufferSize = c.bufferSize
        poolBytes = c.bufferPool?.region.size
        buffersPerSlot = c.bufferPool == nil ? c.buffersPerSlot : 1
        if c.bufferPool != nil {
            bufferRegion = 1
            buffersOffset = 0
            return
        }
        switch c.regionLayout {
        case .ringsThenBuffers:
            bufferRegion = 0
            buffersOffset = UInt64(ringCount * ringBytes)
        case .separateBufferRegion:
            bufferRegion = 1
            buffersOffset = 0
        }
    }

    var bufferBytes: UInt64 {
        poolBytes ?? UInt64(ringCount * slots * buffersPerSlot) * UInt64(bufferSize)
    }
    /// One past the last buffer byte, as an offset in the buffer region.
    var bufferRegionEnd: UInt64 { buffersOffset + bufferBytes }

    /// Sizes of region 0, 1, ... as announced in ADD_REGION.
    var regionSizes: [UInt64] {
        bufferRegion == 0 ? [bufferRegionEnd] : [UInt64(ringCount * ringBytes), bufferBytes]
    }

    func globalRing(clientToServer: Bool, index: Int) -> Int {
        clientToServer ? index : clientToServerRings + index
    }

    func ringOffset(global g: Int) -> UInt32 { UInt32(g * ringBytes) }

    /// Buffers of each ring: its slots times ``buffersPerSlot``.
    var buffersPerRing: Int { slots * buffersPerSlot }

    func bufferOffset(global g: Int) -> UInt64 { buffersOffset + UInt64(g * buffersPerRing) * UInt64(bufferSize) }
}
