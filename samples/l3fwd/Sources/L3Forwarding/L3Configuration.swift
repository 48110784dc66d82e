import MemifKit

/// l3fwd's configuration file: channels, then routes, one per line; `#` starts a comment.
///
/// ```
/// queues 1
/// channel west socket=@l3fwd-west mac=02:00:00:00:00:01 ipv4=198.18.0.1
/// channel east socket=@l3fwd-east mac=02:00:00:00:00:02 ipv6=2001:db8:2::1
/// route 198.18.1.0/24 east 02:00:00:00:00:10
/// route 2001:db8:2::/48 east 02:00:00:00:00:11
/// route 0.0.0.0/0 west 52:54:00:12:34:56
/// ```
///
/// Channel options: `socket=` (required), `role=client|server`, `framing=ethernet|ip`,
/// `mac=` (default Calico's pod MAC), `ipv4=`/`ipv6=` (repeatable: addresses the ARP/ND
/// responder answers for), `id=`. A route names a prefix, an output channel and, on an
/// Ethernet channel, the next hop's MAC.
public struct L3Configuration: Sendable, Equatable {
    public struct Channel: Sendable, Equatable {
        public var name: String
        public var socket: String
        public var role: MemifConfiguration.Role = .client
        public var framing: MemifFraming = .ethernet
        public var mac: MACAddress = CalicoConvention.podMAC
        public var ipv4: [IPv4Address] = []
        public var ipv6: [IPv6Address] = []
        public var id: UInt32 = 0
    }

    public struct Route: Sendable, Equatable {
        /// 4 or 16 bytes, network order.
        public var address: [UInt8]
        public var prefixLength: Int
        public var channel: Int
        public var nextHop: MACAddress

        public init(address: [UInt8], prefixLength: Int, channel: Int, nextHop: MACAddress) {
            self.address = address
            self.prefixLength = prefixLength
            self.channel = channel
            self.nextHop = nextHop
        }
    }

    public var queues = 1
    public var ringSize = 1024
    public var channels: [Channel] = []
    public var routes: [Route] = []

    /// A configuration error: the line, the offending token, and why.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var line: Int
        public var token: String
        public var reason: String

        public init(line: Int, token: String, reason: String) {
            self.line = line
            self.token = token
            self.reason = reason
        }

        public var description: String { "line \(line): '\(token)': \(reason)" }
    }

    public init(parsing text: String) throws(ParseError) {
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = number + 1
            let content = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            guard let keyword = words.first else { continue }
            func fail(_ token: String, _ reason: String) -> ParseError { ParseError(line: line, token: token, reason: reason) }
            switch keyword {
            case "queues", "ring-size":
                guard words.count == 2, let n = Int(words[1]), n > 0 else { throw fail(words.dropFirst().joined(separator: " "), "expects one positive number") }
                if keyword == "queues" { queues = n } else { ringSize = n }
            case "channel":
                guard words.count >= 3 else { throw fail(keyword, "expects a name and socket=...") }
                var c = Channel(name: words[1], socket: "")
                guard !channels.contains(where: { $0.name == c.name }) else { throw fail(c.name, "channel defined twice") }
                for option in words.dropFirst(2) {
                    let kv = option.split(separator: "=", maxSplits: 1).map(String.init)
                    guard kv.count == 2 else { throw fail(option, "expects key=value") }
                    let (key, value) = (kv[0], kv[1])
                    switch key {
                    case "socket": c.socket = value
                    case "role":
                        guard let r = MemifConfiguration.Role(rawValue: value) else { throw fail(option, "role is client or server") }
                        c.role = r
                    case "framing":
                        guard let f = MemifFraming(rawValue: value) else { throw fail(option, "framing is ethernet or ip") }
                        c.framing = f
                    case "mac":
                        guard let m = MACAddress(value) else { throw fail(option, "not a MAC address") }
                        c.mac = m
                    case "ipv4":
                        guard let a = IPv4Address(value) else { throw fail(option, "not an IPv4 address") }
                        c.ipv4.append(a)
                    case "ipv6":
                        guard let a = IPv6Address(value) else { throw fail(option, "not an IPv6 address") }
                        c.ipv6.append(a)
                    case "id":
                        guard let n = UInt32(value) else { throw fail(option, "not a 32-bit id") }
                        c.id = n
                    default: throw fail(option, "unknown channel option")
                    }
                }
                guard !c.socket.isEmpty else { throw fail(c.name, "channel needs socket=") }
                channels.append(c)
            case "route":
                guard words.count == 3 || words.count == 4 else { throw fail(keyword, "expects PREFIX CHANNEL [NEXT-HOP-MAC]") }
                let prefix = words[1].split(separator: "/", maxSplits: 1).map(String.init)
                guard prefix.count == 2, let length = Int(prefix[1]) else { throw fail(words[1], "expects ADDRESS/LENGTH") }
                let bytes: [UInt8]
                if let v4 = IPv4Address(prefix[0]) {
                    guard (0...32).contains(length) else { throw fail(words[1], "IPv4 prefix length is 0...32") }
                    bytes = (0..<4).map { UInt8(truncatingIfNeeded: v4.rawValue >> (24 - 8 * $0)) }
                } else if let v6 = IPv6Address(prefix[0]) {
                    guard (0...128).contains(length) else { throw fail(words[1], "IPv6 prefix length is 0...128") }
                    bytes = (0..<8).map { UInt8(truncatingIfNeeded: v6.high >> (56 - 8 * $0)) }
                        + (0..<8).map { UInt8(truncatingIfNeeded: v6.low >> (56 - 8 * $0)) }
                } else {
                    throw fail(words[1], "not an IPv4 or IPv6 address")
                }
                guard let channel = channels.firstIndex(where: { $0.name == words[2] }) else {
                    throw fail(words[2], "no such channel (define channels before routes)")
                }
                var nextHop = MACAddress.broadcast
                if words.count == 4 {
                    guard let m = MACAddress(words[3]) else { throw fail(words[3], "not a MAC address") }
                    nextHop = m
                } else if channels[channel].framing == .ethernet {
                    throw fail(words[2], "a route out of an Ethernet channel needs the next hop's MAC")
                }
                routes.append(Route(address: bytes, prefixLength: length, channel: channel, nextHop: nextHop))
            default:
                throw fail(keyword, "unknown keyword (queues, ring-size, channel, route)")
            }
        }
        guard channels.count >= 1 else { throw ParseError(line: 0, token: "", reason: "no channel defined") }
    }
}
