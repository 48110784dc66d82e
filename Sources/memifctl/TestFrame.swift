import Memif

/// The frame `memifctl source` sends: Ethernet + IPv4 + UDP (discard port 9) with a
/// counting payload, like testpmd's txonly. In IP mode the Ethernet header is left out.
enum TestFrame {
    static let destinationMAC: [UInt8] = [0x02, 0, 0, 0, 0, 0x02]
    static let sourceMAC: [UInt8] = [0x02, 0, 0, 0, 0, 0x01]

    /// Frames laid out for a `MemifFramePool`: `bytes` holds them `stride` bytes apart.
    struct Pool {
        var bytes: [UInt8]
        var length: Int
        var stride: Int
        /// A placeholder for actions that send nothing.
        static let unused = Pool(bytes: [0], length: 1, stride: 1)
    }

    /// Where each flow's frame starts in a pool of several: 2048-byte slots (the data room of
    /// a DPDK mbuf), or a multiple of 2048 for larger frames.
    static let poolSlot = 2048

    /// Bytes between two flows' frames of `size` in a pool of several.
    static func slotStride(size: Int) -> Int { (size + poolSlot - 1) / poolSlot * poolSlot }

    /// One frame per flow, flow i with UDP source port 9 + i (one flow: the plain template).
    /// Several flows each get their own slot, so a source reads them from a pool of
    /// `flows` slots instead of one cache-resident template.
    static func pool(size: Int, flows: Int, mode: MemifMode) -> Pool {
        if flows == 1 { return Pool(bytes: make(size: size, mode: mode), length: size, stride: size) }
        let stride = slotStride(size: size)
        var bytes = [UInt8](repeating: 0, count: stride * flows)
        for flow in 0..<flows {
            let frame = make(size: size, mode: mode, flow: flow)
            bytes.replaceSubrange(flow * stride..<flow * stride + size, with: frame)
        }
        return Pool(bytes: bytes, length: size, stride: stride)
    }

    static func make(size: Int, mode: MemifMode, flow: Int = 0) -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(size)
        if mode == .ethernet {
            frame += destinationMAC + sourceMAC + [0x08, 0x00]
        }
        let ipLength = size - frame.count
        var ip: [UInt8] = [
            0x45, 0, UInt8(ipLength >> 8), UInt8(ipLength & 0xff), 0, 0, 0x40, 0, 64, 17, 0, 0,
            198, 18, 0, 1, 198, 18, 0, 2,
        ]
        let checksum = internetChecksum(ip)
        ip[10] = UInt8(checksum >> 8)
        ip[11] = UInt8(checksum & 0xff)
        let udpLength = ipLength - 20
        let port = UInt16(truncatingIfNeeded: 9 + flow)
        frame += ip + [UInt8(port >> 8), UInt8(port & 0xff), 0, 9, UInt8(udpLength >> 8), UInt8(udpLength & 0xff), 0, 0]
        while frame.count < size { frame.append(UInt8(truncatingIfNeeded: frame.count)) }
        return frame
    }

    static func internetChecksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        for i in stride(from: 0, to: bytes.count, by: 2) {
            sum += UInt32(bytes[i]) << 8 | UInt32(i + 1 < bytes.count ? bytes[i + 1] : 0)
        }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
