import CMemifLinux

/// One control connection as seen by the event loop: reads datagrams, turns each into a
/// message or a protocol error, and closes on EOF, HUP or ERR exactly as on DISCONNECT
/// (reference section 1.6). Subclass-free: the role's logic is the `onMessage` closure.
final class ControlChannel {
    enum Event {
        case message(MemifMessage, OwnedDescriptor?)
        /// The peer sent DISCONNECT (with its reason) or went away (EOF, HUP, ERR).
        case peerClosed(String)
        /// The peer sent something that is not a message: reply DISCONNECT with this reason.
        case malformed(String)
    }

    let socket: ControlSocket
    private let loop: MemifEventLoop
    private var open = true
    var onEvent: (Event) -> Void = { _ in }

    init(socket: ControlSocket, loop: MemifEventLoop) {
        self.socket = socket
        self.loop = loop
    }

    func start() {
        loop.register(socket.fd) { [weak self] events in self?.readable(events) }
    }

    var isOpen: Bool { open }

    func send(_ message: MemifMessage, attaching fd: OwnedDescriptor? = nil) -> Bool {
        guard open else { return false }
        do {
            try socket.send(message, attaching: fd)
            return true
        } catch {
            return false
        }
    }

    /// Sends DISCONNECT with `reason` (when given) and closes. Idempotent.
    func close(sending reason: String?) {
        guard open else { return }
        if let reason { _ = send(.disconnect(code: 0, reason: reason)) }
        open = false
        loop.unregister(socket.fd)
    }

    private func readable(_ events: UInt32) {
        // Drain what is queued first: a DISCONNECT may precede the hang-up (VPP a67d90d0975).
        while open {
            let received: ControlSocket.Received
            do {
                received = try socket.receive()
            } catch {
                finish(.peerClosed("connection error: \(error)"))
                return
            }
            switch received {
            case .wouldBlock:
                if events & UInt32(CMEMIF_EPOLLHUP | CMEMIF_EPOLLERR | CMEMIF_EPOLLRDHUP) != 0 {
                    finish(.peerClosed("connection closed by peer"))
                }
                return
            case .endOfFile:
                finish(.peerClosed("connection closed by peer"))
                return
            case .datagram(let bytes, let fd, let truncated):
                guard !truncated, bytes.count == MemifProtocol.messageSize else {
                    finish(.malformed(DisconnectReason.invalidMessageSize))
                    return
                }
                do {
                    let message = try MemifMessage(decoding: bytes)
                    if case .disconnect(_, let reason) = message {
                        finish(.peerClosed(reason.isEmpty ? "peer disconnected" : reason))
                        return
                    }
                    onEvent(.message(message, fd))
                } catch {
                    switch error {
                    case .invalidSize: finish(.malformed(DisconnectReason.invalidMessageSize))
                    case .unknownType: finish(.malformed(DisconnectReason.unknownMessageType))
                    }
                    return
                }
            }
        }
    }

    private func finish(_ event: Event) {
        guard open else { return }
        onEvent(event)
    }
}
