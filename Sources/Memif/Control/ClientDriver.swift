/// Drives one client interface on the event loop: connect, handshake, and, whenever the
/// server is absent or goes away, reconnect with exponential backoff and fresh memory.
final class ClientDriver {
    private unowned let interface: MemifInterface
    private let loop: MemifEventLoop
    private var channel: ControlChannel?
    private var handshake: ClientHandshake?
    private var connection: MemifConnection?
    private var retryTimer: UInt64?
    private var handshakeTimer: UInt64?
    private var delay: Duration
    private var stopped = false

    init(interface: MemifInterface, loop: MemifEventLoop) {
        self.interface = interface
        self.loop = loop
        self.delay = interface.configuration.reconnectDelay
    }

    func start() { attempt() }

    func stop() {
        stopped = true
        if let retryTimer { loop.cancel(retryTimer) }
        teardown(reason: DisconnectReason.deviceClosed, notifyPeer: true, retry: false)
    }

    private func attempt() {
        retryTimer = nil
        guard !stopped else { return }
        let socket: ControlSocket
        do {
            socket = try ControlSocket.connect(interface.configuration.socket)
        } catch {
            interface.handshakeFailed(reason: error.message)
            scheduleRetry()
            return
        }
        let channel = ControlChannel(socket: socket, loop: loop)
        channel.onEvent = { [unowned self] event in handle(event) }
        self.channel = channel
        self.handshake = ClientHandshake(configuration: interface.configuration, pooledSlots: interface.pooledSlots)
        channel.start()
        // A server that accepts but never answers must not hold us forever.
        handshakeTimer = loop.schedule(after: interface.configuration.handshakeTimeout) { [weak self] in
            guard let self, self.channel === channel, self.connection == nil else { return }
            self.teardown(reason: DisconnectReason.handshakeTimeout, notifyPeer: true, retry: true)
        }
    }

    private func handle(_ event: ControlChannel.Event) {
        switch event {
        case .peerClosed(let reason):
            teardown(reason: reason, notifyPeer: false, retry: true)
        case .malformed(let reason):
            teardown(reason: reason, notifyPeer: true, retry: true)
        case .message(let message, let fd):
            guard connection == nil, var handshake else {
                teardown(reason: DisconnectReason.unexpectedMessage, notifyPeer: true, retry: true)
                return
            }
            let step = handshake.handle(message, fd: fd)
            self.handshake = handshake
            switch step {
            case .send(let reply, let fd):
                if channel?.send(reply, attaching: fd) != true {
                    teardown(reason: "connection closed by peer", notifyPeer: false, retry: true)
                }
            case .refuse(let reason):
                teardown(reason: reason, notifyPeer: true, retry: true)
            case .established(let connection):
                if let handshakeTimer { loop.cancel(handshakeTimer) }
                self.connection = connection
                self.handshake = nil
                delay = interface.configuration.reconnectDelay
                interface.connected(connection)
            case .claim:
                teardown(reason: DisconnectReason.unexpectedMessage, notifyPeer: true, retry: true)
            }
        }
    }

    private func teardown(reason: String, notifyPeer: Bool, retry: Bool) {
        guard let channel else { return }
        if let handshakeTimer { loop.cancel(handshakeTimer) }
        handshakeTimer = nil
        channel.close(sending: notifyPeer ? reason : nil)
        self.channel = nil
        handshake = nil
        if let connection {
            self.connection = nil
            interface.disconnected(connection, reason: reason)
        } else {
            interface.handshakeFailed(reason: reason)
        }
        if retry { scheduleRetry() }
    }

    private func scheduleRetry() {
        guard !stopped, retryTimer == nil else { return }
        let wait = delay
        delay = min(delay * 2, interface.configuration.maximumReconnectDelay)
        retryTimer = loop.schedule(after: wait) { [weak self] in self?.attempt() }
    }
}
