import Memif
import MemifCNI
import MemifSteering
import Synchronization

/// An attachment memifd serves now: its record, its server interface and link counters.
final class LiveAttachment: Sendable {
    let granted: GrantedAttachment
    private let link = Mutex(Link())

    private struct Link {
        var connection: MemifConnection?
        var connections = 0
        /// Counters of connections that have ended (a connection's own counters end with it).
        var finished = Totals()
    }

    struct Totals {
        var rxPackets: UInt64 = 0, rxBytes: UInt64 = 0, txPackets: UInt64 = 0, txBytes: UInt64 = 0, drops: UInt64 = 0

        mutating func add(_ connection: MemifConnection) {
            for q in 0..<connection.receiveQueueCount {
                let s = connection.receiveQueue(q).statistics
                rxPackets &+= s.packets
                rxBytes &+= s.bytes
                drops &+= s.drops
            }
            for q in 0..<connection.transmitQueueCount {
                let s = connection.transmitQueue(q).statistics
                txPackets &+= s.packets
                txBytes &+= s.bytes
                drops &+= s.drops
            }
        }
    }

    init(_ granted: GrantedAttachment) { self.granted = granted }

    var record: AttachmentRecord { granted.record }

    func connected(_ connection: MemifConnection) {
        link.withLock {
            $0.connection = connection
            $0.connections += 1
        }
    }

    func disconnected() {
        link.withLock { l in
            if let c = l.connection { l.finished.add(c) }
            l.connection = nil
        }
    }

    var status: AttachmentStatus {
        let (up, count, totals) = link.withLock { l -> (Bool, Int, Totals) in
            var t = l.finished
            if let c = l.connection { t.add(c) }
            return (l.connection?.isConnected ?? false, l.connections, t)
        }
        let rules = granted.steering.rules
        return AttachmentStatus(
            key: record.key, netns: record.netns, podNamespace: record.podNamespace, podName: record.podName,
            socket: record.socket, mode: granted.steering.spec.mode.rawValue, ports: "\(rules)", linkUp: up,
            connections: count, rxPackets: totals.rxPackets, rxBytes: totals.rxBytes, txPackets: totals.txPackets,
            txBytes: totals.txBytes, drops: totals.drops)
    }
}
