/// The server's side of the handshake for one accepted channel (reference section 1.5):
/// every check DPDK, VPP and libmemif make, with DPDK's DISCONNECT texts, plus the ones
/// they skip (region fd size and seals, ring bounds inside its region).
struct ServerHandshake {
    private enum State {
        case awaitingInit
        case registering
        case done
    }

    /// What the server knows about one of its interfaces when INIT names it.
    struct Candidate {
        var configuration: MemifConfiguration
        var isConnected: Bool
    }

    private var state = State.awaitingInit
    private(set) var configuration: MemifConfiguration?
    private(set) var clientName = ""
    private var regions: [(size: UInt64, fd: OwnedDescriptor)] = []
    private var toServerRings: [(MemifMessage.AddRing, OwnedDescriptor)] = []
    private var toClientRings: [(MemifMessage.AddRing, OwnedDescriptor)] = []

    var isEstablished: Bool { state == .done }

    mutating func handle(
        _ message: MemifMessage, fd: OwnedDescriptor?, lookup: (UInt32) -> Candidate?
    ) -> HandshakeStep {
        switch (state, message) {
        case (.awaitingInit, .initialize(let i)):
            guard fd == nil else { return .refuse(DisconnectReason.unexpectedFD) }
            return initialize(i, lookup: lookup)
        case (.registering, .addRegion(let r)):
            return addRegion(r, fd: fd)
        case (.registering, .addRing(let r)):
            return addRing(r, fd: fd)
        case (.registering, .connect(let name)):
            guard fd == nil else { return .refuse(DisconnectReason.unexpectedFD) }
            return connect(peerInterface: name)
        default:
            return .refuse(DisconnectReason.unexpectedMessage)
        }
    }

    private mutating func initialize(_ i: MemifMessage.Init, lookup: (UInt32) -> Candidate?) -> HandshakeStep {
        guard i.version == MemifProtocol.version else { return .refuse(DisconnectReason.incompatibleVersion) }
        guard let candidate = lookup(i.id) else { return .refuse(DisconnectReason.idNotFound) }
        guard !candidate.isConnected else { return .refuse(DisconnectReason.alreadyConnected) }
        let c = candidate.configuration
        guard i.mode == c.mode.rawValue else {
            return .refuse(c.mode == .ethernet ? DisconnectReason.onlyEthernet : DisconnectReason.modeMismatch)
        }
        if !c.secret.isEmpty {
            guard !i.secret.isEmpty else { return .refuse(DisconnectReason.secretRequired) }
            guard i.secret == Array(c.secret.utf8) else { return .refuse(DisconnectReason.incorrectSecret) }
        }
        configuration = c
        clientName = i.name
        state = .registering
        return .claim(id: i.id)
    }

    private mutating func addRegion(_ r: MemifMessage.AddRegion, fd: OwnedDescriptor?) -> HandshakeStep {
        guard let fd else { return .refuse(DisconnectReason.missingRegionFD) }
        guard Int(r.index) == regions.count, r.index <= MemifProtocol.maxRegionIndex, r.size > 0 else {
            return .refuse(DisconnectReason.invalidRegionIndex)
        }
        regions.append((r.size, fd))
        return .send(.ack, nil)
    }

    private mutating func addRing(_ r: MemifMessage.AddRing, fd: OwnedDescriptor?) -> HandshakeStep {
        guard let fd else { return .refuse(DisconnectReason.missingInterruptFD) }
        guard r.privateHeaderSize == 0 else { return .refuse(DisconnectReason.privateHeaders) }
        guard let c = configuration else { return .refuse(DisconnectReason.unexpectedMessage) }
        let toServer = r.isClientToServer
        let limit = toServer ? c.clientToServerQueues : c.serverToClientQueues
        let expected = toServer ? toServerRings.count : toClientRings.count
        guard Int(r.index) == expected, Int(r.index) < limit else { return .refuse(DisconnectReason.invalidRingIndex) }
        guard Int(r.region) < regions.count else { return .refuse(DisconnectReason.invalidRegionIndex) }
        guard (1...MemifProtocol.maxLog2RingSize).contains(r.log2RingSize) else {
            return .refuse(DisconnectReason.invalidRingSize)
        }
        let ringEnd = UInt64(r.offset) + UInt64(c.ringLayout.ringBytes(log2RingSize: r.log2RingSize))
        guard ringEnd <= regions[Int(r.region)].size, r.offset % 8 == 0 else {
            return .refuse(DisconnectReason.wrongRing)
        }
        if toServer { toServerRings.append((r, fd)) } else { toClientRings.append((r, fd)) }
        return .send(.ack, nil)
    }

    private mutating func connect(peerInterface: String) -> HandshakeStep {
        guard let c = configuration, !regions.isEmpty else { return .refuse(DisconnectReason.unexpectedMessage) }
        guard !toServerRings.isEmpty, !toClientRings.isEmpty else { return .refuse(DisconnectReason.invalidRingIndex) }
        var mapped: [SharedRegion] = []
        for region in regions {
            guard
                let m = try? SharedRegion.adopt(region.fd, size: region.size, requireShrinkSeal: c.requireSealedRegions)
            else { return .refuse(DisconnectReason.deviceError) }
            mapped.append(m)
        }
        func setup(_ entry: (MemifMessage.AddRing, OwnedDescriptor)) -> MemifConnection.RingSetup? {
            let (r, fd) = entry
            let header = mapped[Int(r.region)].base + Int(r.offset)
            guard Ring(header: header, layout: c.ringLayout, log2RingSize: r.log2RingSize).cookie == MemifProtocol.cookie
            else { return nil }
            return MemifConnection.RingSetup(header: header, log2RingSize: r.log2RingSize, eventFD: fd)
        }
        let receive = toServerRings.compactMap(setup)
        let transmit = toClientRings.compactMap(setup)
        guard receive.count == toServerRings.count, transmit.count == toClientRings.count else {
            return .refuse(DisconnectReason.wrongRing)
        }
        state = .done
        regions = []
        toServerRings = []
        toClientRings = []
        return .established(
            MemifConnection(
                role: .server, mode: c.mode, peerApplicationName: clientName, peerInterfaceName: peerInterface,
                regions: mapped, receive: receive, transmit: transmit, ringLayout: c.ringLayout,
                bufferSize: c.bufferSize, interruptMode: false))
    }
}
