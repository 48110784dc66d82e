/// One memif control message, decoded. Byte layouts are in reference section 1.4; every
/// integer is little-endian and some fields are misaligned, so encoding and decoding go
/// byte by byte through ``MessageWriter`` and ``MessageReader``.
public enum MemifMessage: Equatable, Sendable {
    case none
    case ack
    case hello(Hello)
    case initialize(Init)
    case addRegion(AddRegion)
    case addRing(AddRing)
    case connect(interfaceName: String)
    case connected(interfaceName: String)
    case disconnect(code: UInt32, reason: String)

    /// Server to client, right after accept: what the server can take.
    public struct Hello: Equatable, Sendable {
        public var name: String
        public var minVersion: UInt16
        public var maxVersion: UInt16
        public var maxRegion: UInt16
        public var maxServerToClientRing: UInt16
        public var maxClientToServerRing: UInt16
        public var maxLog2RingSize: UInt8

        public init(
            name: String, minVersion: UInt16 = MemifProtocol.version, maxVersion: UInt16 = MemifProtocol.version,
            maxRegion: UInt16 = MemifProtocol.maxRegionIndex,
            maxServerToClientRing: UInt16 = MemifProtocol.maxRingIndex,
            maxClientToServerRing: UInt16 = MemifProtocol.maxRingIndex,
            maxLog2RingSize: UInt8 = MemifProtocol.maxLog2RingSize
        ) {
            self.name = name
            self.minVersion = minVersion
            self.maxVersion = maxVersion
            self.maxRegion = maxRegion
            self.maxServerToClientRing = maxServerToClientRing
            self.maxClientToServerRing = maxClientToServerRing
            self.maxLog2RingSize = maxLog2RingSize
        }
    }

    /// Client to server: which interface, which mode, which secret.
    public struct Init: Equatable, Sendable {
        public var version: UInt16
        public var id: UInt32
        /// Raw mode byte; an unknown value is kept so the server can refuse it by name.
        public var mode: UInt8
        /// Secret bytes before the first NUL (at most 24: a peer may omit the NUL).
        public var secret: [UInt8]
        public var name: String

        public init(version: UInt16 = MemifProtocol.version, id: UInt32, mode: UInt8, secret: [UInt8], name: String) {
            self.version = version
            self.id = id
            self.mode = mode
            self.secret = secret
            self.name = name
        }
    }

    /// Client to server, with the region's memfd attached.
    public struct AddRegion: Equatable, Sendable {
        public var index: UInt16
        public var size: UInt64

        public init(index: UInt16, size: UInt64) {
            self.index = index
            self.size = size
        }
    }

    /// Client to server, with the ring's eventfd attached.
    public struct AddRing: Equatable, Sendable {
        public var flags: UInt16
        public var index: UInt16
        public var region: UInt16
        public var offset: UInt32
        public var log2RingSize: UInt8
        public var privateHeaderSize: UInt16

        public init(
            flags: UInt16, index: UInt16, region: UInt16, offset: UInt32, log2RingSize: UInt8,
            privateHeaderSize: UInt16 = 0
        ) {
            self.flags = flags
            self.index = index
            self.region = region
            self.offset = offset
            self.log2RingSize = log2RingSize
            self.privateHeaderSize = privateHeaderSize
        }

        /// True for a client-to-server (S2M/C2S) ring.
        public var isClientToServer: Bool { flags & MemifProtocol.addRingFlagClientToServer != 0 }
    }

    public var type: MemifMessageType {
        switch self {
        case .none: .none
        case .ack: .ack
        case .hello: .hello
        case .initialize: .initialize
        case .addRegion: .addRegion
        case .addRing: .addRing
        case .connect: .connect
        case .connected: .connected
        case .disconnect: .disconnect
        }
    }
}

/// Why a datagram is not a memif message.
public enum MessageDecodingError: Error, Equatable, Sendable {
    case invalidSize(Int)
    case unknownType(UInt16)
}

extension MemifMessage {
    /// The 128 bytes that go on the wire.
    public func encoded() -> [UInt8] {
        var w = MessageWriter()
        w.put16(type.rawValue, at: 0)
        switch self {
        case .none, .ack:
            break
        case .hello(let h):
            w.putString(h.name, at: 2, field: MemifProtocol.nameFieldSize)
            w.put16(h.minVersion, at: 34)
            w.put16(h.maxVersion, at: 36)
            w.put16(h.maxRegion, at: 38)
            w.put16(h.maxServerToClientRing, at: 40)
            w.put16(h.maxClientToServerRing, at: 42)
            w.put8(h.maxLog2RingSize, at: 44)
        case .initialize(let i):
            w.put16(i.version, at: 2)
            w.put32(i.id, at: 4)
            w.put8(i.mode, at: 8)
            w.putBytes(i.secret, at: 9, field: MemifProtocol.secretFieldSize)
            w.putString(i.name, at: 33, field: MemifProtocol.nameFieldSize)
        case .addRegion(let r):
            w.put16(r.index, at: 2)
            w.put64(r.size, at: 4)
        case .addRing(let r):
            w.put16(r.flags, at: 2)
            w.put16(r.index, at: 4)
            w.put16(r.region, at: 6)
            w.put32(r.offset, at: 8)
            w.put8(r.log2RingSize, at: 12)
            w.put16(r.privateHeaderSize, at: 13)
        case .connect(let name), .connected(let name):
            w.putString(name, at: 2, field: MemifProtocol.nameFieldSize)
        case .disconnect(let code, let reason):
            w.put32(code, at: 2)
            w.putString(reason, at: 6, field: MemifProtocol.reasonFieldSize)
        }
        return w.bytes
    }

    /// Decodes one received datagram. Anything but exactly 128 bytes is refused, as every
    /// peer does; unused payload bytes are ignored.
    public init(decoding bytes: some Collection<UInt8>) throws(MessageDecodingError) {
        guard bytes.count == MemifProtocol.messageSize else { throw .invalidSize(bytes.count) }
        let r = MessageReader(Array(bytes))
        let rawType = r.u16(at: 0)
        guard let type = MemifMessageType(rawValue: rawType) else { throw .unknownType(rawType) }
        switch type {
        case .none:
            self = .none
        case .ack:
            self = .ack
        case .hello:
            self = .hello(
                Hello(
                    name: r.string(at: 2, field: MemifProtocol.nameFieldSize),
                    minVersion: r.u16(at: 34), maxVersion: r.u16(at: 36), maxRegion: r.u16(at: 38),
                    maxServerToClientRing: r.u16(at: 40), maxClientToServerRing: r.u16(at: 42),
                    maxLog2RingSize: r.u8(at: 44)))
        case .initialize:
            self = .initialize(
                Init(
                    version: r.u16(at: 2), id: r.u32(at: 4), mode: r.u8(at: 8),
                    secret: r.bytesBeforeNUL(at: 9, field: MemifProtocol.secretFieldSize),
                    name: r.string(at: 33, field: MemifProtocol.nameFieldSize)))
        case .addRegion:
            self = .addRegion(AddRegion(index: r.u16(at: 2), size: r.u64(at: 4)))
        case .addRing:
            self = .addRing(
                AddRing(
                    flags: r.u16(at: 2), index: r.u16(at: 4), region: r.u16(at: 6), offset: r.u32(at: 8),
                    log2RingSize: r.u8(at: 12), privateHeaderSize: r.u16(at: 13)))
        case .connect:
            self = .connect(interfaceName: r.string(at: 2, field: MemifProtocol.nameFieldSize))
        case .connected:
            self = .connected(interfaceName: r.string(at: 2, field: MemifProtocol.nameFieldSize))
        case .disconnect:
            self = .disconnect(code: r.u32(at: 2), reason: r.string(at: 6, field: MemifProtocol.reasonFieldSize))
        }
    }
}
