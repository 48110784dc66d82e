import ArgumentParser
import MemifCNI

/// `memifctl status`: the attachments memifd holds, asked over its unix socket.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the memif attachments memifd holds on this node.")

    @Option(help: "memifd's unix socket.")
    var socket = NetworkConfiguration.defaultNodeSocket

    @Flag(help: "Print memifd's JSON reply instead of a table.")
    var json = false

    func run() throws {
        let attachments: [AttachmentStatus]
        do throws(CNIError) {
            switch try NodeClient.send(NodeRequest(.status), socketPath: socket, timeoutSeconds: 5) {
            case .status(let list): attachments = list
            case .failed(let error): throw error
            case .done: throw CNIError(.protocolMismatch, "memifd answered status with an attachment")
            }
        } catch {
            throw Unreachable(description: error.msg + (error.details.isEmpty ? "" : " (\(error.details))"))
        }
        if json {
            print(NodeReply.status(attachments).json.serialized)
            return
        }
        let header = ["CONTAINER", "IF", "POD", "SOCKET", "MODE", "PORTS", "LINK", "RX PKTS", "TX PKTS", "DROPS", "NETNS"]
        let rows = attachments.map { a in
            [
                String(a.key.containerID.prefix(12)), a.key.ifname, a.podName.map { "\(a.podNamespace ?? "")/\($0)" } ?? "-",
                a.socket, a.mode, a.ports, a.linkUp ? "up" : "down", "\(a.rxPackets)", "\(a.txPackets)", "\(a.drops)", a.netns,
            ]
        }
        let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max() ?? 0 }
        for row in [header] + rows {
            print(row.indices.map { i in row[i] + String(repeating: " ", count: widths[i] - row[i].count) }.joined(separator: "  "))
        }
        print("\(attachments.count) attachment\(attachments.count == 1 ? "" : "s")")
    }
}

struct Unreachable: Error, CustomStringConvertible {
    var description: String
}
