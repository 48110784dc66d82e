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

    init(configuration c: MemifConfiguration, clientToServer: Int, serverToClient: Int, log2RingSize: UInt8)
        throws(MemifError)
    {
        self.log2RingSize = log2RingSize
        layout = ClientMemoryLayout(
            configuration: c, log2RingSize: log2RingSize, clientToServer: clientToServer,
            serverToClient: serverToClient)
        var regions: [SharedRegion] = []
        for (i, size) in layout.regionSizes.enumerated() {
            regions.append(try SharedRegion.create(size: size, name: "memif region \(i)"))
        }
        self.regions = regions
        var rings: [MemifConnection.RingSetup] = []
        for g in 0..<layout.ringCount {
            let header = regions[0].base + Int(layout.ringOffset(global: g))
            Ring(header: header, layout: c.ringLayout, log2RingSize: log2RingSize).initialize()
            let efd = cmemif_eventfd(0, 1)
            guard efd >= 0 else { throw MemifError.system("eventfd") }
            let bufferOffset = layout.bufferOffset(global: g)
            rings.append(
                MemifConnection.RingSetup(
                    header: header, log2RingSize: log2RingSize, eventFD: OwnedDescriptor(efd),
                    ownBuffers: regions[Int(layout.bufferRegion)].base + Int(bufferOffset),
                    ownRegion: layout.bufferRegion, ownOffset: UInt32(bufferOffset)))
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
