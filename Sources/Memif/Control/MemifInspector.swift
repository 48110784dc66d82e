import CMemifLinux

#if canImport(Glibc)
import Glibc
#endif

/// Asks a memif server what it advertises, without creating any shared memory: connect,
/// read HELLO, optionally try INIT for one interface id, then leave.
public enum MemifInspector {
    public enum InitOutcome: Equatable, Sendable {
        /// The server acknowledged INIT: the id exists and would accept us.
        case accepted
        /// The server sent DISCONNECT with this reason.
        case refused(String)
        /// The server closed without a reason (libmemif and VPP do this for some refusals).
        case closed
    }

    public struct Report: Equatable, Sendable {
        public var hello: MemifMessage.Hello
        public var initOutcome: InitOutcome?
    }

    /// - Parameters:
    ///   - probe: when given, INIT is sent for this id, mode and secret and the answer reported.
    public static func inspect(
        _ socket: MemifSocketName, probe: MemifMessage.Init? = nil, timeoutMilliseconds: Int32 = 2000
    ) throws(MemifError) -> Report {
        let control = try ControlSocket.connect(socket)
        guard case .message(.hello(let hello)) = try next(control, timeoutMilliseconds) else {
            throw MemifError(.disconnected, "\(socket) did not send HELLO")
        }
        var report = Report(hello: hello, initOutcome: nil)
        if let probe {
            try control.send(.initialize(probe))
            switch try next(control, timeoutMilliseconds) {
            case .message(.ack): report.initOutcome = .accepted
            case .message(.disconnect(_, let reason)): report.initOutcome = .refused(reason)
            default: report.initOutcome = .closed
            }
            if report.initOutcome == .accepted {
                try? control.send(.disconnect(code: 0, reason: "inspected"))
            }
        }
        return report
    }

    private enum Answer {
        case message(MemifMessage)
        case closed
    }

    private static func next(_ control: ControlSocket, _ timeout: Int32) throws(MemifError) -> Answer {
        var p = pollfd(fd: control.fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, timeout) > 0 else { throw MemifError(.disconnected, "no answer within \(timeout) ms") }
        guard case .datagram(let bytes, _, _) = try control.receive(),
            let message = try? MemifMessage(decoding: bytes)
        else { return .closed }
        return .message(message)
    }
}
