import MemifCNI
import Synchronization

/// memifd's `/metrics` in the Prometheus text exposition format (version 0.0.4).
enum PrometheusText {
    static func render(_ service: NodeService) -> String {
        let snapshot = service.metricSnapshot()
        var out = ""
        func family(_ name: String, _ kind: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(kind)\n"
        }
        family("memifd_attachments", "gauge", "Attachments memifd holds.")
        out += "memifd_attachments \(snapshot.count)\n"

        family("memifd_cni_requests_total", "counter", "Requests from memif-cni and memifctl, by operation and outcome.")
        for (key, value) in service.counters.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "|")
            out += "memifd_cni_requests_total{op=\"\(parts[0])\",result=\"\(parts[1])\"} \(value)\n"
        }

        let perAttachment: [(String, String, String, (AttachmentStatus) -> UInt64)] = [
            ("memifd_attachment_link_up", "gauge", "1 while the pod's memif client is connected.", { $0.linkUp ? 1 : 0 }),
            ("memifd_attachment_connections_total", "counter", "Connections the pod's memif client made.", { UInt64($0.connections) }),
            ("memifd_attachment_rx_packets_total", "counter", "Packets memifd received from the pod.", { $0.rxPackets }),
            ("memifd_attachment_rx_bytes_total", "counter", "Bytes memifd received from the pod.", { $0.rxBytes }),
            ("memifd_attachment_tx_packets_total", "counter", "Packets memifd sent to the pod.", { $0.txPackets }),
            ("memifd_attachment_tx_bytes_total", "counter", "Bytes memifd sent to the pod.", { $0.txBytes }),
            ("memifd_attachment_drops_total", "counter", "Packets dropped on the pod's memif (no buffer or ring space).", { $0.drops }),
        ]
        for (name, kind, help, value) in perAttachment where !snapshot.isEmpty {
            family(name, kind, help)
            for (status, _) in snapshot { out += "\(name){\(labels(status))} \(value(status))\n" }
        }
        // Hook counters (steering hits, ...), grouped by name.
        var hooked: [String: (AttachmentMetric, [(AttachmentStatus, UInt64)])] = [:]
        for (status, metrics) in snapshot {
            for m in metrics where isValidName(m.name) {
                hooked[m.name, default: (m, [])].1.append((status, m.value))
            }
        }
        for (name, entry) in hooked.sorted(by: { $0.key < $1.key }) {
            let full = "memifd_attachment_\(name)"
            family(full, entry.0.kind.rawValue, entry.0.help)
            for (status, value) in entry.1 { out += "\(full){\(labels(status))} \(value)\n" }
        }
        return out
    }

    private static func labels(_ s: AttachmentStatus) -> String {
        var pairs = [("container", s.key.containerID), ("interface", s.key.ifname), ("socket", s.socket)]
        if let ns = s.podNamespace { pairs.append(("namespace", ns)) }
        if let pod = s.podName { pairs.append(("pod", pod)) }
        return pairs.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",")
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for c in value.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    private static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }
}
