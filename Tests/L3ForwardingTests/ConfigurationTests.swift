import L3Forwarding
import MemifKit
import Testing

@Suite struct ConfigurationTests {
    @Test func readsChannelsAndRoutes() throws {
        let c = try L3Configuration(
            parsing: """
                # two channels
                queues 2
                channel west socket=@w mac=02:00:00:00:00:01 ipv4=198.18.0.254 ipv6=2001:db8::1
                channel east socket=/run/east.sock role=server framing=ethernet id=3   # trailing comment
                route 198.18.1.0/24 east 02:00:00:00:00:10
                route 2001:db8:2::/48 east 02:00:00:00:00:11
                route 0.0.0.0/0 west 52:54:00:12:34:56
                """)
        #expect(c.queues == 2 && c.channels.count == 2 && c.routes.count == 3)
        #expect(c.channels[0].ipv4 == [IPv4Address(198, 18, 0, 254)] && c.channels[0].ipv6 == [IPv6Address("2001:db8::1")!])
        #expect(c.channels[1].role == .server && c.channels[1].id == 3 && c.channels[1].socket == "/run/east.sock")
        #expect(c.routes[0] == .init(address: [198, 18, 1, 0], prefixLength: 24, channel: 1, nextHop: MACAddress("02:00:00:00:00:10")!))
        #expect(c.routes[1].address.count == 16 && c.routes[1].prefixLength == 48)
    }

    @Test(arguments: [
        ("channel a", 1, "channel", "expects a name and socket=..."),
        ("channel a socket=@a\nchannel a socket=@b", 2, "a", "channel defined twice"),
        ("channel a socket=@a mac=zz", 1, "mac=zz", "not a MAC address"),
        ("channel a socket=@a colour=red", 1, "colour=red", "unknown channel option"),
        ("channel a socket=@a\nroute 10.0.0.0/33 a 02:00:00:00:00:01", 2, "10.0.0.0/33", "IPv4 prefix length is 0...32"),
        ("channel a socket=@a\nroute 10.0.0.0/8 b 02:00:00:00:00:01", 2, "b", "no such channel (define channels before routes)"),
        ("channel a socket=@a\nroute 10.0.0.0/8 a", 2, "a", "a route out of an Ethernet channel needs the next hop's MAC"),
        ("channel a socket=@a\nroute banana/8 a 02:00:00:00:00:01", 2, "banana/8", "not an IPv4 or IPv6 address"),
        ("frobnicate", 1, "frobnicate", "unknown keyword (queues, ring-size, channel, route)"),
        ("", 0, "", "no channel defined"),
    ])
    func errorsNameTheLineAndToken(text: String, line: Int, token: String, reason: String) {
        #expect(throws: L3Configuration.ParseError(line: line, token: token, reason: reason)) { try L3Configuration(parsing: text) }
    }

    @Test func anIPChannelNeedsNoNextHopMAC() throws {
        let c = try L3Configuration(parsing: "channel a socket=@a framing=ip\nroute 10.0.0.0/8 a")
        #expect(c.routes[0].nextHop == .broadcast)
    }
}
