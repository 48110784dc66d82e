/// Numbers fixed by the memif v2 protocol (reference section 1.3), shared by every peer.
public enum MemifProtocol {
    /// The only protocol version any implementation speaks: major 2, minor 0.
    public static let version: UInt16 = 0x0200
    /// Written by the client into every ring header; checked by both sides at connect.
    public static let cookie: UInt32 = 0x03E3_1F20
    /// Every control message is exactly this long, zero padded.
    public static let messageSize = 128
    /// Highest ring size any peer accepts, as log2 (16384 slots).
    public static let maxLog2RingSize: UInt8 = 14
    /// Highest region index and ring index we accept and advertise, as DPDK and libmemif do.
    public static let maxRegionIndex: UInt16 = 255
    public static let maxRingIndex: UInt16 = 255
    /// Fixed field widths; C peers keep one byte for the terminating NUL.
    public static let nameFieldSize = 32
    public static let secretFieldSize = 24
    public static let reasonFieldSize = 96
    /// `MEMIF_MSG_ADD_RING_FLAG_S2M`: the ring carries client-to-server traffic.
    public static let addRingFlagClientToServer: UInt16 = 1
    /// `MEMIF_DESC_FLAG_NEXT`: the packet continues in the next slot.
    public static let descriptorFlagNext: UInt16 = 1
    /// `MEMIF_RING_FLAG_MASK_INT`: the ring's consumer polls and wants no eventfd signal.
    public static let ringFlagMaskInterrupt: UInt16 = 1
}

/// What each packet carries (reference section 3).
public enum MemifMode: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Full Ethernet frames from the destination MAC, no FCS.
    case ethernet = 0
    /// Raw IPv4/IPv6 packets with no L2 header.
    case ip = 1
    /// Never specified by any peer; parsed so it can be refused by name.
    case puntInject = 2

    public var description: String {
        switch self {
        case .ethernet: "ethernet"
        case .ip: "ip"
        case .puntInject: "punt/inject"
        }
    }
}
