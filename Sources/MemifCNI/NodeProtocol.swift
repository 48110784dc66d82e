/// The memif-cni <-> memifd protocol: one JSON request and one JSON reply per connection on
/// memifd's `SOCK_STREAM` unix socket (the client half-closes after its request). Both carry
/// `"memifkit": <version>`; a side that sees another version refuses with a clear error.
public enum NodeProtocol {
    public static let version = 1
    /// Neither side reads more than this; a longer document is refused, not buffered.
    public static let maximumMessageBytes = 4 << 20
}

/// One attachment: a pod's memif on one CNI interface of one container (the CNI key).
public struct AttachmentKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var containerID: String
    public var ifname: String

    public init(containerID: String, ifname: String) {
        self.containerID = containerID
        self.ifname = ifname
    }

    public static func < (a: Self, b: Self) -> Bool { (a.containerID, a.ifname) < (b.containerID, b.ifname) }
    public var description: String { "\(containerID)/\(ifname)" }
}

/// What memif-cni asks of memifd.
public struct NodeRequest: Sendable, Hashable {
    public enum Operation: String, Sendable, CaseIterable {
        case add, del, check, gc
        /// STATUS and `memifctl status`: is memifd up, and what does it hold.
        case status
    }

    public var operation: Operation
    public var key: AttachmentKey?
    public var netns: String?
    public var podNamespace: String?
    public var podName: String?
    public var podUID: String?
    /// The CNI network's `name`: GC only collects attachments of its own network.
    public var network: String?
    /// The pod's annotations when the runtime passed them; memifd looks the pod up otherwise.
    public var annotations: [String: String]?
    /// GC only.
    public var validAttachments: [AttachmentKey]?
    /// ADD: the pod's addresses from `prevResult.ips` (no prefix length), which steering
    /// matches on. Empty when memif-cni runs first in its chain.
    public var podIPs: [String]

    public init(
        _ operation: Operation, key: AttachmentKey? = nil, netns: String? = nil, podNamespace: String? = nil,
        podName: String? = nil, podUID: String? = nil, network: String? = nil, annotations: [String: String]? = nil,
        validAttachments: [AttachmentKey]? = nil, podIPs: [String] = []
    ) {
        self.podIPs = podIPs
        self.network = network
        self.operation = operation
        self.key = key
        self.netns = netns
        self.podNamespace = podNamespace
        self.podName = podName
        self.podUID = podUID
        self.annotations = annotations
        self.validAttachments = validAttachments
    }

    public var json: JSON {
        var m: [(key: String, value: JSON)] = [("memifkit", JSON(NodeProtocol.version)), ("op", .string(operation.rawValue))]
        if let key {
            m.append(("containerID", .string(key.containerID)))
            m.append(("ifname", .string(key.ifname)))
        }
        for (name, value) in [
            ("netns", netns), ("podNamespace", podNamespace), ("podName", podName), ("podUID", podUID), ("network", network),
        ] {
            if let value { m.append((name, .string(value))) }
        }
        if let annotations {
            m.append(("annotations", .object(annotations.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        if let validAttachments {
            m.append(("validAttachments", .array(validAttachments.map(\.json))))
        }
        if !podIPs.isEmpty {
            m.append(("podIPs", .array(podIPs.map { .string($0) })))
        }
        return .object(m)
    }

    /// Reads a request; anything malformed is a CNI error memifd sends back.
    public init(json: JSON) throws(CNIError) {
        try NodeProtocol.checkVersion(json)
        guard let op = json["op"]?.stringValue, let operation = Operation(rawValue: op) else {
            throw CNIError(.decodingFailure, "request has no known op (add, del, check, gc, status)")
        }
        self.operation = operation
        func string(_ name: String) throws(CNIError) -> String? {
            switch json[name] {
            case nil, .null?: return nil
            case .string(let s)?: return s
            case let other?: throw CNIError(.decodingFailure, "request field \(name) is \(other.typeName), not a string")
            }
        }
        if let id = try string("containerID"), let ifname = try string("ifname") {
            key = AttachmentKey(containerID: id, ifname: ifname)
        }
        netns = try string("netns")
        podNamespace = try string("podNamespace")
        podName = try string("podName")
        podUID = try string("podUID")
        network = try string("network")
        switch json["annotations"] {
        case nil, .null?: annotations = nil
        case .object(let members)?:
            var a: [String: String] = [:]
            for m in members {
                guard let v = m.value.stringValue else {
                    throw CNIError(.decodingFailure, "annotation \(m.key.prefix(80)) is \(m.value.typeName), not a string")
                }
                a[m.key] = v
            }
            annotations = a
        case let other?: throw CNIError(.decodingFailure, "request field annotations is \(other.typeName), not an object")
        }
        switch json["validAttachments"] {
        case nil, .null?: validAttachments = nil
        case .array(let items)?:
            var keys: [AttachmentKey] = []
            for item in items {
                guard let key = AttachmentKey(json: item) else {
                    throw CNIError(.decodingFailure, "validAttachments entries need containerID and ifname strings")
                }
                keys.append(key)
            }
            validAttachments = keys
        case let other?: throw CNIError(.decodingFailure, "request field validAttachments is \(other.typeName), not an array")
        }
        switch json["podIPs"] {
        case nil, .null?: podIPs = []
        case .array(let items)?:
            var ips: [String] = []
            for item in items {
                guard let ip = item.stringValue, ip.utf8.count <= 45 else {
                    throw CNIError(.decodingFailure, "podIPs entries must be address strings")
                }
                ips.append(ip)
            }
            podIPs = ips
        case let other?: throw CNIError(.decodingFailure, "request field podIPs is \(other.typeName), not an array")
        }
        switch operation {
        case .add, .check:
            guard key != nil, netns != nil else {
                throw CNIError(.decodingFailure, "\(op) needs containerID, ifname and netns")
            }
        case .del:
            guard key != nil else { throw CNIError(.decodingFailure, "del needs containerID and ifname") }
        case .gc:
            guard validAttachments != nil else { throw CNIError(.decodingFailure, "gc needs validAttachments") }
        case .status: break
        }
    }
}

/// What memifd answers.
public enum NodeReply: Sendable, Hashable {
    /// ADD/CHECK/DEL/GC succeeded; ADD carries the attachment, nil when the pod asked for no memif.
    case done(AttachmentStatus?)
    /// STATUS: memifd is serving, with every attachment it holds.
    case status([AttachmentStatus])
    case failed(CNIError)

    public var json: JSON {
        var m: [(key: String, value: JSON)] = [("memifkit", JSON(NodeProtocol.version))]
        switch self {
        case .done(let a): m.append(("attachment", a?.json ?? .null))
        case .status(let list): m.append(("attachments", .array(list.map(\.json))))
        case .failed(let e): m.append(("error", e.json(cniVersion: "")))
        }
        return .object(m)
    }

    public init(json: JSON) throws(CNIError) {
        try NodeProtocol.checkVersion(json)
        if let error = json["error"] {
            guard let e = CNIError(json: error) else { throw CNIError(.protocolMismatch, "memifd sent an unreadable error") }
            self = .failed(e)
        } else if let list = json["attachments"]?.arrayValue {
            var items: [AttachmentStatus] = []
            for item in list {
                guard let a = AttachmentStatus(json: item) else { throw CNIError(.protocolMismatch, "memifd sent an unreadable attachment") }
                items.append(a)
            }
            self = .status(items)
        } else if let a = json["attachment"] {
            if case .null = a {
                self = .done(nil)
            } else {
                guard let status = AttachmentStatus(json: a) else {
                    throw CNIError(.protocolMismatch, "memifd sent an unreadable attachment")
                }
                self = .done(status)
            }
        } else {
            throw CNIError(.protocolMismatch, "memifd's reply has neither attachment, attachments nor error")
        }
    }
}

/// One attachment as memifd reports it (ADD's reply, STATUS, `memifctl status`).
public struct AttachmentStatus: Sendable, Hashable {
    public var key: AttachmentKey
    public var netns: String
    public var podNamespace: String?
    public var podName: String?
    /// The memif socket in the pod's namespace, `@name` for an abstract one.
    public var socket: String
    /// How the memif shows in results: `memif-<ifname>`.
    public var interfaceName: String
    public var mode: String
    /// The steered ports as the annotation wrote them.
    public var ports: String
    public var linkUp: Bool
    public var connections: Int
    public var rxPackets: UInt64
    public var rxBytes: UInt64
    public var txPackets: UInt64
    public var txBytes: UInt64
    public var drops: UInt64

    public init(
        key: AttachmentKey, netns: String, podNamespace: String?, podName: String?, socket: String, mode: String,
        ports: String, linkUp: Bool = false, connections: Int = 0, rxPackets: UInt64 = 0, rxBytes: UInt64 = 0,
        txPackets: UInt64 = 0, txBytes: UInt64 = 0, drops: UInt64 = 0
    ) {
        self.key = key
        self.netns = netns
        self.podNamespace = podNamespace
        self.podName = podName
        self.socket = socket
        self.interfaceName = "memif-\(key.ifname)"
        self.mode = mode
        self.ports = ports
        self.linkUp = linkUp
        self.connections = connections
        self.rxPackets = rxPackets
        self.rxBytes = rxBytes
        self.txPackets = txPackets
        self.txBytes = txBytes
        self.drops = drops
    }

    public var json: JSON {
        var m: [(key: String, value: JSON)] = [
            ("containerID", .string(key.containerID)), ("ifname", .string(key.ifname)), ("netns", .string(netns)),
        ]
        if let podNamespace { m.append(("podNamespace", .string(podNamespace))) }
        if let podName { m.append(("podName", .string(podName))) }
        m += [
            ("socket", .string(socket)), ("mode", .string(mode)), ("ports", .string(ports)), ("linkUp", .bool(linkUp)),
            ("connections", JSON(connections)), ("rxPackets", JSON(rxPackets)), ("rxBytes", JSON(rxBytes)),
            ("txPackets", JSON(txPackets)), ("txBytes", JSON(txBytes)), ("drops", JSON(drops)),
        ]
        return .object(m)
    }

    public init?(json: JSON) {
        guard let key = AttachmentKey(json: json), let netns = json["netns"]?.stringValue,
            let socket = json["socket"]?.stringValue, let mode = json["mode"]?.stringValue,
            let ports = json["ports"]?.stringValue
        else { return nil }
        func counter(_ name: String) -> UInt64 {
            if case .number(let n)? = json[name] { return UInt64(n) ?? 0 }
            return 0
        }
        self.init(
            key: key, netns: netns, podNamespace: json["podNamespace"]?.stringValue, podName: json["podName"]?.stringValue,
            socket: socket, mode: mode, ports: ports, linkUp: json["linkUp"]?.boolValue ?? false,
            connections: json["connections"]?.intValue ?? 0, rxPackets: counter("rxPackets"), rxBytes: counter("rxBytes"),
            txPackets: counter("txPackets"), txBytes: counter("txBytes"), drops: counter("drops"))
    }
}

extension AttachmentKey {
    public var json: JSON { .object([("containerID", .string(containerID)), ("ifname", .string(ifname))]) }

    public init?(json: JSON) {
        guard let id = json["containerID"]?.stringValue, let ifname = json["ifname"]?.stringValue else { return nil }
        self.init(containerID: id, ifname: ifname)
    }
}

extension NodeProtocol {
    static func checkVersion(_ json: JSON) throws(CNIError) {
        guard case .object = json else { throw CNIError(.decodingFailure, "message is \(json.typeName), not an object") }
        guard let v = json["memifkit"]?.intValue else {
            throw CNIError(.protocolMismatch, "message has no memifkit protocol version")
        }
        guard v == version else {
            throw CNIError(.protocolMismatch, "protocol version \(v) is not the \(version) this side speaks; update memif-cni and memifd together")
        }
    }
}
