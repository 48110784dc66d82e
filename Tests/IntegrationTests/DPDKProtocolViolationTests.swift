import Foundation
import Testing

@testable import Memif

/// What a testpmd server advertises and how it refuses protocol violations no well-formed
/// client would commit (reference section 7 items 9 and 10), driven by a raw control socket.
@Suite(
    "DPDK testpmd: HELLO and raw protocol violations", .serialized,
    .enabled(if: TestPMD.isAvailable, "dpdk-testpmd is not installed (set MEMIFKIT_REQUIRE_DPDK=1 to fail instead)"))
struct DPDKProtocolViolationTests {
    @Test func helloAdvertisesDPDKLimitsAndBadInitsGetTheDocumentedTexts() throws {
        let socket = TestSocket.unique(.abstract)
        let pmd = try TestPMD(role: .server, socket: socket)
        defer { pmd.stop() }
        try #require(pmd.waitUntilListening(), "\(pmd.outputTail)")
        let name = try socket.ours

        // Item 9: HELLO 255/255/255/14.
        let report = try MemifInspector.inspect(name)
        #expect(report.hello.name.hasPrefix("DPDK"))
        #expect(report.hello.minVersion == 0x0200 && report.hello.maxVersion == 0x0200)
        #expect(report.hello.maxRegion == 255)
        #expect(report.hello.maxClientToServerRing == 255 && report.hello.maxServerToClientRing == 255)
        #expect(report.hello.maxLog2RingSize == 14)

        // Item 10: version 0x0100.
        let old = try MemifInspector.inspect(name, probe: .init(version: 0x0100, id: 0, mode: 0, secret: [], name: "old"))
        #expect(old.initOutcome == .refused("Incompatible memif version"))

        // Item 10: a short datagram.
        let control = try ControlSocket.connect(name)
        #expect(Self.next(control) == .hello(report.hello))
        try control.send(bytes: [UInt8](repeating: 0, count: 100))
        #expect(Self.next(control) == .disconnect(code: 0, reason: "Invalid message size"))

        // And testpmd still serves a well-formed client, once it has released the
        // refused channel (it does that asynchronously: until then it says "ID not found").
        var outcome: MemifInspector.InitOutcome?
        let accepted = Resources.eventually(timeout: 5) {
            outcome = try? MemifInspector.inspect(name, probe: .init(id: 0, mode: 0, secret: [], name: "ok")).initOutcome
            return outcome == .accepted
        }
        #expect(accepted, "last answer: \(String(describing: outcome))")
    }

    /// The next message from `control`, or nil after 3 s or on EOF.
    static func next(_ control: ControlSocket) -> MemifMessage? {
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline {
            switch try? control.receive() {
            case .datagram(let bytes, _, _): return try? MemifMessage(decoding: bytes)
            case .endOfFile, nil: return nil
            case .wouldBlock: usleep(5_000)
            }
        }
        return nil
    }
}
