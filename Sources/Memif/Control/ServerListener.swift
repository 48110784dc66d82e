import Logging

#if canImport(Glibc)
import Glibc
#endif

/// One listening socket and the server interfaces behind it: many interface ids share a
/// socket, and INIT's id picks one. Lives on the event loop thread.
final class ServerListener {
    let name: MemifSocketName
    private let address: ListenerAddress
    private let socket: ControlSocket
    private let loop: MemifEventLoop
    private var interfaces: [UInt32: MemifInterface] = [:]
    /// Accepted channels, before and after INIT.
    private var channels: [ObjectIdentifier: ServerChannel] = [:]
    /// Which channel holds each interface id, from INIT until it closes.
    private var claims: [UInt32: ServerChannel] = [:]

    init(address: ListenerAddress, loop: MemifEventLoop) throws(MemifError) {
        self.name = address.socket
        self.address = address
        self.loop = loop
        socket = try ControlSocket.listen(address.socket, inNamespace: address.namespace)
        loop.register(socket.fd) { [weak self] _ in self?.acceptAll() }
    }

    var isEmpty: Bool { interfaces.isEmpty }

    /// The name HELLO carries: HELLO precedes INIT, so it cannot be per interface.
    var applicationName: String {
        interfaces.values.min { $0.configuration.id < $1.configuration.id }?.configuration.applicationName ?? "MemifKit"
    }

    /// The longest handshake any interface on this socket allows.
    var handshakeTimeout: Duration {
        interfaces.values.map(\.configuration.handshakeTimeout).max() ?? .seconds(5)
    }

    func add(_ interface: MemifInterface) throws(MemifError) {
        let id = interface.configuration.id
        guard interfaces[id] == nil else {
            throw MemifError(.invalidConfiguration, "interface id \(id) is already served on \(name)")
        }
        interfaces[id] = interface
    }

    func remove(_ interface: MemifInterface) {
        let id = interface.configuration.id
        guard interfaces[id] === interface else { return }
        claims[id]?.close(reason: DisconnectReason.deviceClosed, notifyPeer: true)
        interfaces[id] = nil
    }

    /// Closes every channel and the listener; removes a filesystem socket file.
    func close() {
        for channel in Array(channels.values) { channel.close(reason: DisconnectReason.deviceClosed, notifyPeer: true) }
        loop.unregister(socket.fd)
        if name.kind == .filesystem && address.namespace == nil { unlink(name.name) }
    }

    private func acceptAll() {
        while let accepted = try? socket.accept() {
            let channel = ServerChannel(socket: accepted, listener: self, loop: loop)
            channels[ObjectIdentifier(channel)] = channel
            channel.start()
        }
    }

    func candidate(for id: UInt32) -> ServerHandshake.Candidate? {
        guard let interface = interfaces[id] else { return nil }
        return .init(configuration: interface.configuration, isConnected: claims[id] != nil)
    }

    func claim(_ id: UInt32, by channel: ServerChannel) -> MemifInterface? {
        claims[id] = channel
        return interfaces[id]
    }

    func closed(_ channel: ServerChannel, claimedID: UInt32?) {
        channels[ObjectIdentifier(channel)] = nil
        if let id = claimedID, claims[id] === channel { claims[id] = nil }
    }
}

/// Where a listener listens: a socket name within a network namespace (nil: the loop's own).
struct ListenerAddress: Hashable {
    var socket: MemifSocketName
    var namespace: String?

    init(_ configuration: MemifConfiguration) {
        socket = configuration.socket
        namespace = configuration.listenNamespace
    }
}

/// One accepted control connection on a server socket: sends HELLO, runs the server
/// handshake, then watches for DISCONNECT or EOF.
final class ServerChannel {
    private let channel: ControlChannel
    private unowned let listener: ServerListener
    private let loop: MemifEventLoop
    private var handshake = ServerHandshake()
    private var claimedID: UInt32?
    private var interface: MemifInterface?
    private var connection: MemifConnection?
    private var timer: UInt64?

    init(socket: ControlSocket, listener: ServerListener, loop: MemifEventLoop) {
        self.channel = ControlChannel(socket: socket, loop: loop)
        self.listener = listener
        self.loop = loop
    }

    func start() {
        channel.onEvent = { [unowned self] event in handle(event) }
        channel.start()
        // HELLO goes out before INIT names an interface, so it carries protocol-wide limits (G6).
        if !channel.send(.hello(.init(name: listener.applicationName))) {
            lost()
            return
        }
        let timeout = listener.handshakeTimeout
        timer = loop.schedule(after: timeout) { [weak self] in
            guard let self, !self.handshake.isEstablished else { return }
            self.close(reason: DisconnectReason.handshakeTimeout, notifyPeer: true)
        }
    }

    private func handle(_ event: ControlChannel.Event) {
        switch event {
        case .peerClosed(let reason):
            close(reason: reason, notifyPeer: false)
        case .malformed(let reason):
            close(reason: reason, notifyPeer: true)
        case .message(let message, let fd):
            guard !handshake.isEstablished else {
                close(reason: DisconnectReason.unexpectedMessage, notifyPeer: true)
                return
            }
            let step = handshake.handle(message, fd: fd) { [listener] id in listener.candidate(for: id) }
            apply(step)
        }
    }

    private func apply(_ step: HandshakeStep) {
        switch step {
        case .send(let message, let fd):
            if !channel.send(message, attaching: fd) { lost() }
        case .claim(let id):
            claimedID = id
            interface = listener.claim(id, by: self)
            if !channel.send(.ack) { lost() }
        case .refuse(let reason):
            close(reason: reason, notifyPeer: true)
        case .established(let connection):
            guard channel.send(.connected(interfaceName: interface?.configuration.interfaceName ?? "")) else {
                connection.deactivate()
                lost()
                return
            }
            if let timer { loop.cancel(timer) }
            self.connection = connection
            interface?.connected(connection)
        }
    }

    /// A reply could not be sent (peer gone, or not reading): lock-step is broken, give up.
    private func lost() { close(reason: "connection lost while replying", notifyPeer: false) }

    /// Tears the channel down: the connection goes inactive, the interface id becomes free.
    func close(reason: String, notifyPeer: Bool) {
        guard channel.isOpen else { return }
        channel.close(sending: notifyPeer ? reason : nil)
        if let timer { loop.cancel(timer) }
        listener.closed(self, claimedID: claimedID)
        if let connection {
            self.connection = nil
            if let interface { interface.disconnected(connection, reason: reason) } else { connection.deactivate() }
        } else if claimedID != nil {
            interface?.handshakeFailed(reason: reason)
        }
    }
}
