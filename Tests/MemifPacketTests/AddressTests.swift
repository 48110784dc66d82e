import MemifPacket
import Testing

@Suite struct AddressTests {
    @Test(arguments: [
        ("02:00:00:00:00:01", "02:00:00:00:00:01"),
        ("AA-BB-CC-DD-EE-FF", "aa:bb:cc:dd:ee:ff"),
        ("2:0:0:0:0:1", "02:00:00:00:00:01"),
        ("ff:ff:ff:ff:ff:ff", "ff:ff:ff:ff:ff:ff"),
    ])
    func macParsesAndPrints(text: String, canonical: String) throws {
        let a = try MACAddress(parsing: text)
        #expect(a.description == canonical)
        #expect(MACAddress(canonical) == a)
    }

    @Test(arguments: ["", "02:00:00:00:00", "02:00:00:00:00:01:02", "02:00:00:00:00:0g", "020:00:00:00:00:01",
                      "02:00:00:00::01", "02:00-00:00:00:01", " 02:00:00:00:00:01"])
    func macRejects(text: String) {
        #expect(MACAddress(text) == nil)
        #expect(throws: AddressParseError.self) { try MACAddress(parsing: text) }
    }

    @Test func macBitsAndMulticastMapping() throws {
        let a = MACAddress(0x02, 0, 0, 0, 0, 1)
        #expect(a.isLocallyAdministered && !a.isMulticast && !a.isBroadcast)
        #expect(MACAddress.broadcast.isBroadcast && MACAddress.broadcast.isMulticast)
        let group = try IPv6Address(parsing: "ff02::1:ff00:1234")
        #expect(MACAddress(ipv6Multicast: group).description == "33:33:ff:00:12:34")
        #expect(a.bytes == [2, 0, 0, 0, 0, 1])
    }

    @Test(arguments: ["10.0.0.1", "0.0.0.0", "255.255.255.255", "192.168.100.7"])
    func ipv4RoundTrips(text: String) throws {
        #expect(try IPv4Address(parsing: text).description == text)
    }

    @Test(arguments: ["", "10.0.0", "10.0.0.1.2", "256.0.0.1", "010.0.0.1", "10..0.1", "10.0.0.1 ", "a.b.c.d",
                      "1.2.3.4.", "1234.1.1.1"])
    func ipv4Rejects(text: String) {
        #expect(IPv4Address(text) == nil)
    }

    @Test func ipv4Value() throws {
        #expect(try IPv4Address(parsing: "10.0.0.1").rawValue == 0x0A00_0001)
        #expect(IPv4Address(224, 0, 0, 1).isMulticast)
    }

    /// RFC 5952 section 4 cases, and input forms RFC 4291 allows.
    @Test(arguments: [
        ("fd00::1", "fd00::1"),
        ("FD00:0000:0000:0000:0000:0000:0000:0001", "fd00::1"),
        ("::", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:db8::0:1", "2001:db8::1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
        ("2001:db8:0:0:1:0:0:0", "2001:db8:0:0:1::"),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
        ("::ffff:10.0.0.1", "::ffff:10.0.0.1"),
        ("0:0:0:0:0:ffff:a00:1", "::ffff:10.0.0.1"),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
        ("fe80::abcd:ef01:2345:6789", "fe80::abcd:ef01:2345:6789"),
    ])
    func ipv6ParsesToRFC5952(text: String, canonical: String) throws {
        let a = try IPv6Address(parsing: text)
        #expect(a.description == canonical)
        #expect(try IPv6Address(parsing: canonical) == a)
    }

    @Test(arguments: ["", ":", ":::", "1:::2", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::",
                      "::g", ":1::2", "1::2:", "1:2:3:4:5:6:7:8::", "::1.2.3", "1.2.3.4::", "::256.0.0.1",
                      "fe80::1%eth0", "[::1]", "::ffff:1.2.3.4:5"])
    func ipv6Rejects(text: String) {
        #expect(IPv6Address(text) == nil)
        #expect(throws: AddressParseError.self) { try IPv6Address(parsing: text) }
    }

    @Test func ipv6ErrorsSayWhy() {
        #expect(throws: AddressParseError(kind: "IPv6", text: "1::2::3", reason: "more than one '::'")) {
            try IPv6Address(parsing: "1::2::3")
        }
        let e = AddressParseError(kind: "IPv6", text: "x", reason: "r")
        #expect(e.description == "invalid IPv6 address 'x': r")
    }

    @Test func ipv6Helpers() throws {
        let a = try IPv6Address(parsing: "fd00::12:3456")
        #expect(a.solicitedNodeMulticast.description == "ff02::1:ff12:3456")
        #expect(try IPv6Address(parsing: "fe80::1").isLinkLocal)
        #expect(!a.isLinkLocal && !a.isMulticast && IPv6Address.allNodes.isMulticast)
        #expect(a.group(7) == 0x3456 && a.group(6) == 0x12 && a.group(0) == 0xfd00)
    }

    /// Random addresses print and parse back to themselves; zero runs are common so `::` is exercised.
    @Test func ipv6TextRoundTripsOnRandomAddresses() throws {
        var rng = SeededGenerator(seed: 6)
        for _ in 0..<2000 {
            let groups = (0..<8).map { _ in Bool.random(using: &rng) ? 0 : UInt16.random(in: 0...0xFFFF, using: &rng) }
            let a = IPv6Address(groups: groups)
            let text = a.description
            #expect(try IPv6Address(parsing: text) == a, "\(text)")
            #expect(!text.contains(":::"))
            #expect(text.ranges(of: "::").count <= 1)
        }
    }

    @Test func memoryRoundTrips() throws {
        let p = PacketBytes([UInt8](repeating: 0, count: 40))
        let a = try IPv6Address(parsing: "2001:db8::42")
        a.store(to: p.pointer, at: 3)
        #expect(IPv6Address(loadingFrom: p.pointer, at: 3) == a)
        #expect(p.bytes()[3...4] == [0x20, 0x01])
        let m = MACAddress(1, 2, 3, 4, 5, 6)
        m.store(to: p.pointer, at: 21)
        #expect(MACAddress(loadingFrom: p.pointer, at: 21) == m)
        #expect(Array(p.bytes()[21..<27]) == [1, 2, 3, 4, 5, 6])
        IPv4Address(10, 1, 2, 3).store(to: p.pointer, at: 33)
        #expect(Array(p.bytes()[33..<37]) == [10, 1, 2, 3])
    }
}
