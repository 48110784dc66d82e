import ArgumentParser
import Memif

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect to a memif server and print what it advertises.")

    @Argument(help: "Socket: a path, or @name / abstract:name.")
    var socket: String

    @Option(help: "Also try INIT for this interface id and report the server's answer.")
    var id: UInt32?

    @Option(help: "Secret to send with --id.")
    var secret: String = ""

    @Option(help: "Mode to send with --id.")
    var mode: MemifMode = .ethernet

    func run() throws {
        let probe = id.map {
            MemifMessage.Init(id: $0, mode: mode.rawValue, secret: Array(secret.utf8), name: "memifctl inspect")
        }
        let report = try MemifInspector.inspect(try MemifSocketName(socket), probe: probe)
        let h = report.hello
        print("socket:            \(socket)")
        print("server:            \(h.name)")
        print("versions:          0x\(String(h.minVersion, radix: 16))-0x\(String(h.maxVersion, radix: 16))")
        print("max region index:  \(h.maxRegion)")
        print("max c2s ring idx:  \(h.maxClientToServerRing)  (client-to-server, S2M)")
        print("max s2c ring idx:  \(h.maxServerToClientRing)  (server-to-client, M2S)")
        print("max log2 ring:     \(h.maxLog2RingSize)  (\(1 << Int(h.maxLog2RingSize)) slots)")
        if let id, let outcome = report.initOutcome {
            switch outcome {
            case .accepted: print("interface \(id):       accepted")
            case .refused(let reason): print("interface \(id):       refused: \(reason)")
            case .closed: print("interface \(id):       closed without a reason")
            }
        }
    }
}
