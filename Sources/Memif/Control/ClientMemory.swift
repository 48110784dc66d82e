import CMemifLinux

/// Everything a client creates for one connection attempt: sealed memfd regions, rings
/// initialised with the cookie, one eventfd per ring. Built fresh for every connection,
/// since the server closes the previous ones.
struct ClientMemory {
    let layout: ClientMemoryLayout
    let log2RingSize: UInt8
    let regions: [SharedRegion]
    /// Client-to-server rings (our transmit) then server-to-client (our receive).
    let rings: [MemifConnection.RingSetup]
    /// What the slot tables belong to: the pool, or a ``SlotTableOwner`` of this memory.
    let slotOwner: AnyObject

    /// - Parameter pooledSlots: with a pool, the interface's tables: one per configured
    ///   client-to-server queue, then one per server-to-client queue.
    init(
        configuration c: MemifConfiguration, clientToServer: Int, serverToClient: Int, log2RingSize: UInt8,
        pooledSlots: [SlotTable]? = nil
    ) throws(MemifError) {
        self.log2RingSize = log2RingSize
        layout = ClientMemoryLayout(
            configuration: c, log2RingSize: log2RingSize, clientToServer: clientToServer,
            serverToClient: serverToClient)
        var regions: [SharedRegion] = []
        for (i, size) in layout.regionSizes.enumerated() {
            if i == 1, let pool = c.bufferPool {
                regions.append(pool.region)
            } else {
                regions.append(try SharedRegion.create(size: size, name: "memif region \(i)"))
            }
        }
        self.regions = regions
        let tables: [SlotTable]
        if let pool = c.bufferPool, let pooledSlots {
            let toClientBase = c.clientToServerQueues
            tables = (0..<layout.ringCount).map { g in
                g < clientToServer ? pooledSlots[g] : pooledSlots[toClientBase + g - clientToServer]
            }
            slotOwner = pool
        } else {
            guard c.bufferPool == nil else {
                throw MemifError(.invalidConfiguration, "a client on a buffer pool needs the slot tables it claimed")
            }
            let l = layout
            tables = (0..<l.ringCount).map { g in
                SlotTable(count: l.buffersPerRing) {
                    UInt32(truncatingIfNeeded: l.bufferOffset(global: g) + UInt64($0 * l.bufferSize))
                }
            }
            slotOwner = SlotTableOwner(tables)
        }
        var rings: [MemifConnection.RingSetup] = []
        for g in 0..<layout.ringCount {
            let header = regions[0].base + Int(layout.ringOffset(global: g))
            Ring(header: header, layout: c.ringLayout, log2RingSize: log2RingSize).initialize()
            let efd = cmemif_eventfd(0, 1)
            guard efd >= 0 else { throw MemifError.system("eventfd") }
            rings.append(
                MemifConnection.RingSetup(
                    header: header, log2RingSize: log2RingSize, eventFD: OwnedDescriptor(efd),
                    ownBase: regions[Int(layout.bufferRegion)].base, ownRegion: layout.bufferRegion,
                    // A pool's tables were claimed for the configured ring, which the
                    // server may have cut down: index them by the ring's own mask.
                    slots: tables[g].offsets, slotCount: c.bufferPool == nil ? tables[g].count : 0,
                    pooled: c.bufferPool != nil))
        }
        self.rings = rings
    }

    /// The messages after INIT, in protocol order, with the fd each one carries.
    func registrationMessages() -> [(MemifMessage, OwnedDescriptor)] {
        var out: [(MemifMessage, OwnedDescriptor)] = []
        for (i, r) in regions.enumerated() {
            out.append((.addRegion(.init(index: UInt16(i), size: r.size)), r.descriptor))
        }
        for g in 0..<layout.ringCount {
            let clientToServer = g < layout.clientToServerRings
            let index = clientToServer ? g : g - layout.clientToServerRings
            let message = MemifMessage.AddRing(
                flags: clientToServer ? MemifProtocol.addRingFlagClientToServer : 0, index: UInt16(index),
                region: 0, offset: layout.ringOffset(global: g), log2RingSize: log2RingSize)
            out.append((.addRing(message), rings[g].eventFD))
        }
        return out
    }

    /// Re-checks every ring's cookie at CONNECTED: the server must not have moved anything.
    func cookiesIntact(_ ringLayout: RingLayout) -> Bool {
        rings.allSatisfy { Ring(header: $0.header, layout: ringLayout, log2RingSize: log2RingSize).cookie == MemifProtocol.cookie }
    }
}
