import ArgumentParser
import CMallocCounter
import Foundation
import MemifSteering

/// Classification speed of `SteeringClassifier` over a fixed mix of prepared frames (IPv4 and
/// IPv6, options, extension headers, fragments, VLAN tags, ICMP, ARP; hits and misses).
struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify a mix of prepared packets: packets/s, ns/packet, heap allocations; instructions/packet with --callgrind.",
        discussion: """
            The loop runs in measuredClassify. --callgrind runs this command under
            valgrind --tool=callgrind --toggle-collect='*measuredClassify*' with --packets N and 2N
            and prints (I(2N) - I(N)) / N.
            """)

    @Option(help: "Packets to classify.")
    var packets = 20_000_000

    @Option(help: "Steered ports, in the memifkit.io/ports grammar.")
    var rules = "tcp:80,tcp:443,tcp:4444-20000,udp:53,udp:6081"

    @Option(help: "Rule-set lookup: automatic, scan or bitmap.")
    var lookup = "automatic"

    @Flag(help: "Report instructions per packet by running this command twice under callgrind.")
    var callgrind = false

    func run() throws {
        if callgrind { return try runCallgrind() }
        let ruleSet = try makeRuleSet()
        let mix = PacketMix()
        defer { mix.deallocate() }
        let classifier = SteeringClassifier(rules: ruleSet, framing: .ethernet)
        // Warm-up outside measuredClassify, so callgrind's count holds only the measured loop.
        for _ in 0..<1000 { _ = mix.steeredCount(classifier) }
        for _ in 0..<1000 { _ = measuredFixedOffsetClassify(ruleSet, mix, count: mix.count) }
        let allocationsBefore = cmalloc_allocations()
        let start = ContinuousClock.now
        let steered = measuredClassify(classifier, mix, count: packets)
        let elapsed = ContinuousClock.now - start
        let allocations = cmalloc_allocations() - allocationsBefore
        // The peer in the same run: Calico/VPP's way, ports at a fixed offset (wrong on options,
        // extension headers and fragments; reference §1.8).
        let peerStart = ContinuousClock.now
        let peerSteered = measuredFixedOffsetClassify(ruleSet, mix, count: packets)
        let peerElapsed = ContinuousClock.now - peerStart
        let seconds = elapsed / .seconds(1)
        let peerSeconds = peerElapsed / .seconds(1)
        let lookupName = ruleSet.usesBitmap ? "bitmap" : "scan"
        print("rules \(ruleSet) (\(lookupName)); mix of \(mix.count) frames, \(mix.steeredCount(classifier)) to memif")
        print(
            "classified \(packets) packets (\(steered) to memif) in \(String(format: "%.3f", seconds)) s: "
                + "\(String(format: "%.1f", Double(packets) / seconds / 1e6)) Mpps, "
                + "\(String(format: "%.2f", seconds * 1e9 / Double(packets))) ns/packet, \(allocations) heap allocations")
        print(
            "fixed-offset peer (Calico/VPP PBL style): \(peerSteered) to memif, "
                + "\(String(format: "%.2f", peerSeconds * 1e9 / Double(packets))) ns/packet; "
                + "ratio classifier/peer \(String(format: "%.2f", seconds / peerSeconds))")
        if allocations != 0 { throw ExitCode.failure }
    }

    private func makeRuleSet() throws -> PortRuleSet {
        let ranges = try PortListGrammar.parse(rules, key: "--rules", dialect: .memifKit).ranges
        switch lookup {
        case "automatic": return PortRuleSet(ranges)
        case "scan": return PortRuleSet(ranges, lookup: .scan)
        case "bitmap": return PortRuleSet(ranges, lookup: .bitmap)
        default: throw ValidationError("--lookup must be automatic, scan or bitmap")
        }
    }

    /// Runs itself under callgrind for N and 2N packets; the difference over N cancels setup.
    private func runCallgrind() throws {
        // valgrind 3.19 cannot read the toolchain's DWARF 5; it needs only the symbol table.
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("memif-bench-classify-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: copy) }
        _ = try run(["objcopy", "--strip-debug", "/proc/self/exe".resolvingSymlink, copy])
        let n = 200_000
        var perPacket: [Double] = []
        for function in ["measuredClassify", "measuredFixedOffsetClassify"] {
            var counts: [Int] = []
            for count in [n, 2 * n] {
                let text = try run([
                    "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", "--toggle-collect=*\(function)*",
                    copy, "classify", "--packets", "\(count)", "--rules", rules, "--lookup", lookup,
                ])
                guard let line = text.split(separator: "\n").first(where: { $0.contains("Collected :") }),
                    let collected = Int(line.split(separator: ":").last!.trimmingCharacters(in: .whitespaces))
                else { throw BenchFailure("callgrind printed no count:\n\(text.suffix(2000))") }
                counts.append(collected)
            }
            perPacket.append(Double(counts[1] - counts[0]) / Double(n))
        }
        print(
            "instructions per packet (callgrind, lookup \(lookup)): classifier \(String(format: "%.1f", perPacket[0])), "
                + "fixed-offset peer \(String(format: "%.1f", perPacket[1])), ratio \(String(format: "%.2f", perPacket[0] / perPacket[1]))")
    }

    /// Runs a command found on PATH; returns its standard error, throws unless it exits 0.
    private func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchFailure("\(arguments[0]) failed:\n\(text.suffix(2000))") }
        return text
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension String {
    fileprivate var resolvingSymlink: String { (try? FileManager.default.destinationOfSymbolicLink(atPath: self)) ?? self }
}

/// Classifies `count` packets cycling through the mix; returns how many went to the memif.
/// Not inlined, so callgrind can count the instructions inside it alone.
@inline(never)
func measuredClassify(_ classifier: SteeringClassifier, _ mix: PacketMix, count: Int) -> Int {
    let frames = mix.frames
    let lengths = mix.lengths
    let n = mix.count
    var steered = 0
    var k = 0
    for _ in 0..<count {
        if classifier.classify(frames[k], length: lengths[k]) == .memif { steered &+= 1 }
        k &+= 1
        if k == n { k = 0 }
    }
    return steered
}

/// Calico/VPP's PBL node, for comparison: VLAN tags skipped, then the protocol and destination
/// port read at fixed offsets (IPv4 + 20, IPv6 + 40), no options, extension headers or
/// fragments considered. Only the bounds checks are added, so it cannot read past a frame.
@inline(never)
func measuredFixedOffsetClassify(_ rules: PortRuleSet, _ mix: PacketMix, count: Int) -> Int {
    let frames = mix.frames
    let lengths = mix.lengths
    let n = mix.count
    var steered = 0
    var k = 0
    for _ in 0..<count {
        let p = frames[k]
        let length = lengths[k]
        k &+= 1
        if k == n { k = 0 }
        guard length >= 14 else { continue }
        var offset = 12
        var type = UInt16(bigEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
        while type == 0x8100 || type == 0x88A8, offset + 6 <= length {
            offset &+= 4
            type = UInt16(bigEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
        }
        offset &+= 2
        let proto: UInt8
        let port: UInt16
        if type == 0x0800, offset + 24 <= length {
            proto = p.load(fromByteOffset: offset + 9, as: UInt8.self)
            port = UInt16(bigEndian: p.loadUnaligned(fromByteOffset: offset + 22, as: UInt16.self))
        } else if type == 0x86DD, offset + 44 <= length {
            proto = p.load(fromByteOffset: offset + 6, as: UInt8.self)
            port = UInt16(bigEndian: p.loadUnaligned(fromByteOffset: offset + 42, as: UInt16.self))
        } else {
            continue
        }
        if rules.contains(ipProtocol: proto, port: port) { steered &+= 1 }
    }
    return steered
}

/// The prepared frames, each in its own buffer, addressed through raw pointer arrays so the
/// measured loop touches no Swift array.
struct PacketMix {
    let frames: UnsafeMutablePointer<UnsafeRawPointer>
    let lengths: UnsafeMutablePointer<Int>
    let count: Int

    init() {
        let all = Self.build()
        count = all.count
        frames = .allocate(capacity: count)
        lengths = .allocate(capacity: count)
        for (i, bytes) in all.enumerated() {
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
            buffer.copyMemory(from: bytes, byteCount: bytes.count)
            frames[i] = UnsafeRawPointer(buffer)
            lengths[i] = bytes.count
        }
    }

    func deallocate() {
        for i in 0..<count { UnsafeMutableRawPointer(mutating: frames[i]).deallocate() }
        frames.deallocate()
        lengths.deallocate()
    }

    func steeredCount(_ classifier: SteeringClassifier) -> Int {
        (0..<count).count { classifier.classify(frames[$0], length: lengths[$0]) == .memif }
    }

    private static func be16(_ v: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }

    private static func ethernet(_ type: Int, tags: [Int] = []) -> [UInt8] {
        [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2] + tags.flatMap { be16($0) + be16(100) } + be16(type)
    }

    private static func ipv4(_ proto: UInt8, payload: Int, options: Int = 0, fragment: Int = 0) -> [UInt8] {
        [UInt8(0x40 | (5 + options / 4)), 0] + be16(20 + options + payload) + be16(1) + be16(fragment)
            + [64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2] + [UInt8](repeating: 1, count: options)
    }

    private static func ipv6(_ next: UInt8, payload: Int) -> [UInt8] {
        [0x60, 0, 0, 0] + be16(payload) + [next, 64] + [UInt8](repeating: 0, count: 15) + [1]
            + [UInt8](repeating: 0, count: 15) + [2]
    }

    private static func tcp(_ port: Int) -> [UInt8] {
        be16(40000) + be16(port) + [0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10] + be16(512) + [0, 0, 0, 0]
    }

    private static func udp(_ port: Int) -> [UInt8] { be16(1000) + be16(port) + be16(8) + [0, 0] }

    /// Twelve frames, half of them steered with the default rules.
    static func build() -> [[UInt8]] {
        let extensions: [UInt8] = [60, 0, 1, 4, 0, 0, 0, 0] + [17, 0, 1, 4, 0, 0, 0, 0]  // hop-by-hop, dest-opts
        return [
            ethernet(0x0800) + ipv4(6, payload: 20) + tcp(80),  // hit
            ethernet(0x0800) + ipv4(17, payload: 8) + udp(5353),  // miss
            ethernet(0x0800) + ipv4(6, payload: 20, options: 12) + tcp(8080),  // hit, options
            ethernet(0x86DD) + ipv6(17, payload: 8) + udp(53),  // hit
            ethernet(0x86DD) + ipv6(0, payload: 16 + 20) + extensions.dropLast(8) + [6, 0, 1, 4, 0, 0, 0, 0] + tcp(443),  // hit
            ethernet(0x86DD) + ipv6(0, payload: 16 + 8) + extensions + udp(123),  // miss, ext headers
            ethernet(0x0800, tags: [0x8100]) + ipv4(17, payload: 8) + udp(6081),  // hit, VLAN
            ethernet(0x86DD, tags: [0x88A8, 0x8100]) + ipv6(6, payload: 20) + tcp(22),  // miss, QinQ
            ethernet(0x0800) + ipv4(17, payload: 8, fragment: 0x2000) + udp(53),  // first fragment: normal
            ethernet(0x0800) + ipv4(1, payload: 8) + [8, 0, 0, 0, 0, 0, 0, 0],  // ICMP
            ethernet(0x0806) + [0, 1, 8, 0, 6, 4, 0, 1] + [UInt8](repeating: 0, count: 20),  // ARP
            ethernet(0x0800) + ipv4(6, payload: 20) + tcp(4444),  // hit, range edge
        ]
    }
}
