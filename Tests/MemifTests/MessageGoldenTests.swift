import Testing

@testable import Memif

/// Golden bytes for every control message, written from the layout table in reference
/// section 1.4 (offsets, widths, little-endian), not from our encoder.
@Suite struct MessageGoldenTests {
    /// 128 bytes: `hex` (spaces ignored) followed by zeros.
    static func golden(_ hex: String) -> [UInt8] {
        let digits = Array(hex.filter { !$0.isWhitespace })
        var bytes = stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
        bytes += [UInt8](repeating: 0, count: 128 - bytes.count)
        return bytes
    }

    static func ascii(_ s: String, field: Int) -> String {
        let hex = s.utf8.map { String(format2: $0) }.joined()
        return hex + String(repeating: "00", count: field - s.utf8.count)
    }

    static let cases: [(String, MemifMessage, [UInt8])] = [
        ("NONE", .none, golden("0000")),
        ("ACK", .ack, golden("0100")),
        (
            "HELLO",
            .hello(.init(name: "DPDK 22.11.11")),
            golden("0200" + ascii("DPDK 22.11.11", field: 32) + "0002 0002 ff00 ff00 ff00 0e")
        ),
        (
            "INIT",
            .initialize(.init(id: 0x0102_0304, mode: 1, secret: Array("abc".utf8), name: "app")),
            golden("0300 0002 04030201 01" + ascii("abc", field: 24) + ascii("app", field: 32))
        ),
        (
            "ADD_REGION",
            .addRegion(.init(index: 2, size: 4_227_328)),
            golden("0400 0200 00814000 00000000")
        ),
        (
            "ADD_RING",
            .addRing(.init(flags: 1, index: 3, region: 1, offset: 16512, log2RingSize: 10, privateHeaderSize: 0x0102)),
            golden("0500 0100 0300 0100 80400000 0a 0201")
        ),
        ("CONNECT", .connect(interfaceName: "net_memif0"), golden("0600" + ascii("net_memif0", field: 32))),
        ("CONNECTED", .connected(interfaceName: "memif0/0"), golden("0700" + ascii("memif0/0", field: 32))),
        (
            "DISCONNECT",
            .disconnect(code: 7, reason: "ID not found"),
            golden("0800 07000000" + ascii("ID not found", field: 96))
        ),
    ]

    @Test(arguments: cases)
    func encodesToGoldenBytes(_ name: String, _ message: MemifMessage, _ bytes: [UInt8]) {
        #expect(message.encoded() == bytes, "\(name)")
    }

    @Test(arguments: cases)
    func decodesGoldenBytes(_ name: String, _ message: MemifMessage, _ bytes: [UInt8]) throws {
        #expect(try MemifMessage(decoding: bytes) == message, "\(name)")
    }

    @Test func everyMessageTypeHasAGoldenCase() {
        #expect(Set(Self.cases.map { $0.1.type }) == Set(MemifMessageType.allCases))
    }

    @Test(arguments: [0, 1, 127, 129, 256])
    func refusesAnyOtherSize(_ size: Int) {
        #expect(throws: MessageDecodingError.invalidSize(size)) {
            try MemifMessage(decoding: [UInt8](repeating: 0, count: size))
        }
    }

    @Test func refusesUnknownType() {
        #expect(throws: MessageDecodingError.unknownType(9)) { try MemifMessage(decoding: Self.golden("0900")) }
        #expect(throws: MessageDecodingError.unknownType(0xFFFF)) { try MemifMessage(decoding: Self.golden("ffff")) }
    }

    @Test func stringsKeepRoomForTheNUL() throws {
        let long = String(repeating: "x", count: 40)
        let bytes = MemifMessage.connect(interfaceName: long).encoded()
        #expect(bytes[2..<33].allSatisfy { $0 == UInt8(ascii: "x") })
        #expect(bytes[33] == 0)
        #expect(try MemifMessage(decoding: bytes) == .connect(interfaceName: String(repeating: "x", count: 31)))
        let secret = MemifMessage.initialize(.init(id: 0, mode: 0, secret: Array(repeating: 0x61, count: 30), name: ""))
        #expect(secret.encoded()[9..<32].allSatisfy { $0 == 0x61 })
        #expect(secret.encoded()[32] == 0)
    }

    @Test func toleratesASecretWithoutNUL() throws {
        // gomemif can fill all 24 bytes; the reader takes them whole.
        var bytes = Self.golden("0300 0002 00000000 00")
        for i in 9..<33 { bytes[i] = 0x73 }
        guard case .initialize(let i) = try MemifMessage(decoding: bytes) else {
            Issue.record("not INIT")
            return
        }
        #expect(i.secret == [UInt8](repeating: 0x73, count: 24))
    }

    @Test func ignoresPayloadBytesPastTheFields() throws {
        var bytes = Self.golden("0100")
        bytes[100] = 0xAA
        #expect(try MemifMessage(decoding: bytes) == .ack)
    }
}

extension String {
    init(format2 byte: UInt8) {
        let s = String(byte, radix: 16)
        self = s.count == 1 ? "0" + s : s
    }
}
