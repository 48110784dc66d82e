/// The client's side of the lock-step handshake (reference section 1.5): wait for HELLO,
/// build fresh memory, then send INIT, each ADD_REGION, each ADD_RING and CONNECT one at a
/// time, each only after the previous one was acknowledged.
struct ClientHandshake {
    private enum State {
        case awaitingHello
        case registering
        case awaitingConnected
        case done
    }

    let configuration: MemifConfiguration
    private var state = State.awaitingHello
    private var pending: [(MemifMessage, OwnedDescriptor?)] = []
    private var memory: ClientMemory?
    private(set) var serverName = ""

    /// The interface's slot tables when it draws on a ``MemifBufferPool``.
    let pooledSlots: [SlotTable]?

    init(configuration: MemifConfiguration, pooledSlots: [SlotTable]? = nil) {
        self.configuration = configuration
        self.pooledSlots = pooledSlots
    }

    mutating func handle(_ message: MemifMessage, fd: OwnedDescriptor?) -> HandshakeStep {
        guard fd == nil else { return .refuse(DisconnectReason.unexpectedFD) }
        switch (state, message) {
        case (.awaitingHello, .hello(let hello)):
            return accept(hello)
        case (.registering, .ack):
            return sendNext()
        case (.awaitingConnected, .connected(let peerInterface)):
            return establish(peerInterface: peerInterface)
        default:
            return .refuse(DisconnectReason.unexpectedMessage)
        }
    }

    private mutating func accept(_ hello: MemifMessage.Hello) -> HandshakeStep {
        serverName = hello.name
        guard hello.minVersion <= MemifProtocol.version, MemifProtocol.version <= hello.maxVersion else {
            return .refuse(DisconnectReason.incompatibleVersion)
        }
        let c = configuration
        // HELLO carries the highest index, so the count is one more (reference 1.5).
        let toServer = min(c.clientToServerQueues, Int(hello.maxClientToServerRing) + 1)
        let toClient = min(c.serverToClientQueues, Int(hello.maxServerToClientRing) + 1)
        let log2 = min(c.log2RingSize, hello.maxLog2RingSize)
        guard log2 >= 1 else { return .refuse(DisconnectReason.invalidRingSize) }
        let layout = ClientMemoryLayout(configuration: c, log2RingSize: log2, clientToServer: toServer, serverToClient: toClient)
        guard layout.regionSizes.count <= Int(hello.maxRegion) + 1 else { return .refuse(DisconnectReason.invalidRegionIndex) }
        do {
            let memory = try ClientMemory(
                configuration: c, clientToServer: toServer, serverToClient: toClient, log2RingSize: log2,
                pooledSlots: pooledSlots)
            self.memory = memory
            pending = [(.initialize(.init(id: c.id, mode: c.mode.rawValue, secret: Array(c.secret.utf8), name: c.applicationName)), nil)]
            pending += memory.registrationMessages().map { ($0.0, $0.1) }
            pending.append((.connect(interfaceName: c.interfaceName), nil))
        } catch {
            return .refuse(DisconnectReason.deviceError)
        }
        state = .registering
        return sendNext()
    }

    private mutating func sendNext() -> HandshakeStep {
        let (message, fd) = pending.removeFirst()
        if pending.isEmpty { state = .awaitingConnected }
        return .send(message, fd)
    }

    private mutating func establish(peerInterface: String) -> HandshakeStep {
        guard let memory, memory.cookiesIntact(configuration.ringLayout) else { return .refuse(DisconnectReason.wrongRing) }
        state = .done
        let toServer = memory.layout.clientToServerRings
        let connection = MemifConnection(
            role: .client, mode: configuration.mode, peerApplicationName: serverName, peerInterfaceName: peerInterface,
            regions: memory.regions, receive: Array(memory.rings[toServer...]), transmit: Array(memory.rings[..<toServer]),
            ringLayout: configuration.ringLayout, bufferSize: configuration.bufferSize,
            interruptMode: false, slotOwner: memory.slotOwner)
        self.memory = nil
        return .established(connection)
    }
}
