import Foundation
import MemifPacket
import Testing

/// Runs `Tests/Support/scapy_oracle.py` with Debian's `/usr/bin/python3` (the one with scapy;
/// `SCAPY_PYTHON` names another interpreter).
enum Scapy {
    static let python = ProcessInfo.processInfo.environment["SCAPY_PYTHON"] ?? "/usr/bin/python3"
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Support/scapy_oracle.py").path

    /// CI must run the cross-check: there a missing scapy fails the test instead of skipping it.
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"

    static let available: Bool = {
        guard FileManager.default.isExecutableFile(atPath: python) else { return false }
        return (try? run(["-c", "import scapy.all"], input: nil)) != nil
    }()

    /// Enabled when scapy is there, and always in CI (where its absence is a failure, not a skip).
    static var enabled: Bool { available || required }

    enum Failure: Error, CustomStringConvertible {
        case exited(Int32, String)
        case missing(String)
        var description: String {
            switch self {
            case .exited(let code, let err): "python exited with \(code): \(err)"
            case .missing(let why): why
            }
        }
    }

    static func run(_ arguments: [String], input: Data?) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = arguments
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = inp
        try p.run()
        if let input { inp.fileHandleForWriting.write(input) }
        try inp.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw Failure.exited(p.terminationStatus, String(decoding: errors, as: UTF8.self))
        }
        return data
    }

    /// Fails with the reason when scapy is missing (only reached in CI, see ``enabled``).
    static func requireAvailable() throws {
        if !available {
            throw Failure.missing(
                "scapy is required (CI=true) but '\(python) -c \"import scapy.all\"' failed: install python3-scapy (scripts/setup.sh)")
        }
    }

    static func corpus() throws -> [CorpusEntry] {
        try requireAvailable()
        return try JSONDecoder().decode([CorpusEntry].self, from: run([script, "corpus"], input: nil))
    }

    static func check(_ frames: [[UInt8]]) throws -> [ScapyView] {
        try requireAvailable()
        let input = try JSONEncoder().encode(frames.map(Hex.string))
        return try JSONDecoder().decode([ScapyView].self, from: run([script, "check"], input: input))
    }
}

struct CorpusEntry: Decodable {
    var name: String
    var hex: String
    var l2Error: String?
    var walkError: String?
    var l4Error: String?
    var view: ScapyView?
}

/// scapy's reading of a frame (see the script's docstring).
struct ScapyView: Decodable {
    struct L2: Decodable { var dst, src: String; var etherType, l3Offset: Int; var tags: [[Int]] }
    struct IPv4: Decodable {
        var src, dst: String
        var ttl, proto, ihl, totalLength, id, flags, frag, tos, checksum: Int
        var checksumOK: Bool
    }
    struct IPv6: Decodable { var src, dst: String; var hlim, nh, plen, tc, fl: Int }
    struct Walk: Decodable { var proto, l4Offset, end: Int; var fragment: String }
    struct UDP: Decodable { var sport, dport, len, checksum: Int; var checksumOK: Bool }
    struct TCP: Decodable {
        var sport, dport, seq, ack, dataofs, flags, window, checksum, urgptr: Int
        var checksumOK: Bool
    }
    struct ICMP: Decodable { var type, code, id, seq, checksum: Int; var checksumOK: Bool }
    struct ICMPv6: Decodable {
        var type, code, checksum: Int
        var checksumOK: Bool
        var id, seq, flags: Int?
        var target, sourceLinkLayer, targetLinkLayer: String?
    }
    struct ARP: Decodable { var op: Int; var hwsrc, psrc, hwdst, pdst: String }
    struct ESP: Decodable { var spi, seq: Int }

    var length: Int
    var l2: L2?
    var ipv4: IPv4?
    var ipv6: IPv6?
    var walk: Walk?
    var udp: UDP?
    var tcp: TCP?
    var icmp: ICMP?
    var icmpv6: ICMPv6?
    var arp: ARP?
    var esp: ESP?

    /// Every checksum scapy looked at matched its own recomputation.
    var allChecksumsOK: Bool {
        [ipv4?.checksumOK, udp?.checksumOK, tcp?.checksumOK, icmp?.checksumOK, icmpv6?.checksumOK]
            .allSatisfy { $0 ?? true }
    }
}

extension PacketError {
    init?(named name: String) {
        guard let e = PacketError.allCases.first(where: { "\($0)" == name || Self.caseName($0) == name }) else { return nil }
        self = e
    }

    static func caseName(_ e: PacketError) -> String {
        switch e {
        case .truncated: "truncated"
        case .badVersion: "badVersion"
        case .badHeaderLength: "badHeaderLength"
        case .badTotalLength: "badTotalLength"
        case .tooManyTags: "tooManyTags"
        case .tooManyExtensionHeaders: "tooManyExtensionHeaders"
        case .unsupported: "unsupported"
        case .malformed: "malformed"
        }
    }
}
