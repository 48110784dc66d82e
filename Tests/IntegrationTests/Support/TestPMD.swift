import Foundation
import Memif

/// A control socket as both sides spell it: ours (`@name` or a path) and testpmd's devargs
/// (`socket=NAME` is abstract by default in DPDK >= 20.11; `socket-abstract=no` makes it a
/// file, reference gotcha G2).
struct TestSocket: Sendable, CustomStringConvertible {
    enum Kind: String, Sendable, CaseIterable, CustomStringConvertible {
        case filesystem
        case abstract
        var description: String { rawValue }
    }

    let kind: Kind
    /// The path, or the abstract name without `@`.
    let name: String

    /// A name no other test or run uses.
    static func unique(_ kind: Kind) -> TestSocket {
        switch kind {
        case .filesystem:
            let path = FileManager.default.temporaryDirectory
                .appendingPathComponent(TestPaths.uniqueName("dpdk") + ".sock").path
            return TestSocket(kind: .filesystem, name: path)
        case .abstract:
            return TestSocket(kind: .abstract, name: TestPaths.uniqueName("dpdk"))
        }
    }

    var ours: MemifSocketName {
        get throws { try MemifSocketName(kind == .abstract ? "@\(name)" : name) }
    }

    var devargs: [String] { kind == .abstract ? ["socket=\(name)"] : ["socket=\(name)", "socket-abstract=no"] }

    /// Whether someone listens on it in this network namespace (`/proc/net/unix` shows
    /// abstract names with a leading `@`).
    var isListening: Bool {
        let table = Resources.procFile("/proc/net/unix")
        let shown = kind == .abstract ? "@\(name)" : name
        // Columns: Num RefCount Protocol Flags Type St Inode Path. Flags 00010000 = __SO_ACCEPTCON.
        return table.split(separator: "\n").contains { line in
            let columns = line.split(separator: " ", omittingEmptySubsequences: true)
            return columns.count >= 8 && columns[7] == shown && columns[3] == "00010000"
        }
    }

    /// Removes a filesystem socket left behind (by us or by a killed testpmd).
    func removeFile() {
        if kind == .filesystem { try? FileManager.default.removeItem(atPath: name) }
    }

    var description: String { kind == .abstract ? "@\(name)" : name }
}

/// dpdk-testpmd with one `net_memif0` port forwarding on lcore 1, started through
/// ``ChildProcess`` (reference section 7 part A, /work/shared/PEERS.md). Stopped, and its
/// EAL runtime directory removed, on every path: explicitly or when released.
///
/// testpmd sometimes segfaults while exiting; judge a test by what was counted while it
/// ran (``portStatistics``), never by its exit status.
final class TestPMD: @unchecked Sendable {
    static let executable = "/usr/bin/dpdk-testpmd"

    /// Installed here, or required by the environment (so CI without it fails loudly
    /// instead of skipping: set MEMIFKIT_REQUIRE_DPDK=1).
    static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: executable)
            || ProcessInfo.processInfo.environment["MEMIFKIT_REQUIRE_DPDK"] == "1"
    }

    enum Role: String, Sendable {
        case server
        case client
    }

    let role: Role
    let socket: TestSocket
    let filePrefix: String
    let arguments: [String]
    private let process: ChildProcess

    /// - Parameters:
    ///   - bufferSize: devarg `bsize`, meaningful on a client only (gotcha G7).
    ///   - queues: `--rxq` and `--txq`.
    ///   - forwardMode: testpmd `--forward-mode`.
    ///   - interactive: start at testpmd's prompt (`-i`): forwarding waits for ``command(_:)``
    ///     `start`, and `stop` prints exact forward statistics while the port is still up.
    init(
        role: Role, socket: TestSocket, id: UInt32 = 0, secret: String? = nil, bufferSize: Int? = nil,
        queues: Int = 1, forwardMode: String = "macswap", interactive: Bool = false, extra: [String] = []
    ) throws {
        self.role = role
        self.socket = socket
        self.filePrefix = TestPaths.uniqueName("memifkit-pmd")
        var devargs = ["net_memif0", "role=\(role.rawValue)", "id=\(id)"] + socket.devargs
        if let secret { devargs.append("secret=\(secret)") }
        if let bufferSize { devargs.append("bsize=\(bufferSize)") }
        arguments = [
            // EAL: main lcore 0, forwarding lcore 1; no hugepages, no PCI.
            "-l", "0,1", "--main-lcore", "0", "--no-huge", "-m", "1024", "--no-pci",
            "--file-prefix=\(filePrefix)", "--vdev=\(devargs.joined(separator: ","))",
            "--",
            "--forward-mode=\(forwardMode)", "--port-topology=loop", "--nb-cores=1", "--no-mlockall",
            "--total-num-mbufs=16384", "--rxq=\(queues)", "--txq=\(queues)",
        ] + (interactive ? ["-i"] : ["--stats-period=1"]) + extra
        process = try ChildProcess(Self.executable, arguments)
    }

    deinit {
        stop()
    }

    var isRunning: Bool { process.isRunning }

    var output: String { process.output }

    /// The last lines of output, for failure messages (stats blocks stripped of escapes).
    var outputTail: String {
        let lines = output.replacingOccurrences(of: "\u{1B}[2J\u{1B}[1;1H", with: "").split(separator: "\n")
        return "$ dpdk-testpmd \(arguments.joined(separator: " "))\n" + lines.suffix(40).joined(separator: "\n")
    }

    /// Server: waits until the listener is bound. (testpmd binds it while probing the vdev,
    /// before forwarding starts.)
    func waitUntilListening(timeout: Double = 10) -> Bool {
        Resources.eventually(timeout: timeout) { socket.isListening || !process.isRunning } && socket.isListening
    }

    /// SIGTERM (testpmd closes its port, sending DISCONNECT "Device closed"), then SIGKILL.
    /// Idempotent.
    func stop() {
        process.stop(signal: SIGTERM, timeout: 5)
        cleanUp()
    }

    /// SIGKILL: the peer sees EOF without DISCONNECT, as after a crash.
    func kill() {
        process.stop(signal: SIGKILL, timeout: 5)
        cleanUp()
    }

    private func cleanUp() {
        // A killed (or crashed) testpmd leaves its EAL runtime directory and, as a server on
        // a filesystem socket, the socket file (which would block the next listener, G4).
        try? FileManager.default.removeItem(atPath: "/var/run/dpdk/\(filePrefix)")
        if role == .server { socket.removeFile() }
    }

    /// Interactive mode: types `line` at the prompt.
    func command(_ line: String) { process.send(line) }

    /// Interactive mode: `stop`, then, `settle` seconds later (the port stays up meanwhile, so
    /// the peer can drain its ring), `quit`; returns port 0's exact forward statistics (what the
    /// forwarding core counted since `start`), or nil if testpmd printed none. (testpmd's
    /// stdout is a file here, fully buffered: the block appears only once it exits.)
    func stopForwarding(settle: Double = 1, timeout: Double = 10) -> (rx: UInt64, tx: UInt64)? {
        command("stop")
        usleep(UInt32(settle * 1_000_000))
        command("quit")
        _ = process.waitForExit(timeout: timeout)
        guard output.contains("Accumulated forward statistics") else { return nil }
        let text = output
        guard let block = text.components(separatedBy: "Forward statistics for port 0").last else { return nil }
        func number(after label: String) -> UInt64? {
            guard let range = block.range(of: label) else { return nil }
            return UInt64(block[range.upperBound...].drop { $0 == " " }.prefix { $0.isNumber })
        }
        guard let rx = number(after: "RX-packets:"), let tx = number(after: "TX-packets:") else { return nil }
        return (rx, tx)
    }

    /// Port 0's counters from the last `--stats-period` block (the memif PMD's own packet
    /// counts). Nil before the first block.
    var portStatistics: (rx: UInt64, tx: UInt64)? {
        Self.lastStatistics(in: output)
    }

    static func lastStatistics(in text: String) -> (rx: UInt64, tx: UInt64)? {
        // Only a complete block (it ends with the Tx-pps line) counts: the file may be read
        // while testpmd writes the next one.
        let blocks = text.components(separatedBy: "NIC statistics for port 0").dropFirst()
        guard let block = blocks.last(where: { $0.contains("Tx-pps:") }) else { return nil }
        func number(after label: String) -> UInt64? {
            guard let range = block.range(of: label) else { return nil }
            let digits = block[range.upperBound...].drop { $0 == " " }.prefix { $0.isNumber }
            return UInt64(digits)
        }
        guard let rx = number(after: "RX-packets:"), let tx = number(after: "TX-packets:") else { return nil }
        return (rx, tx)
    }
}
