import CMemifLinux

/// Where the fields of a memif ring sit (reference section 2.2).
///
/// `head` is written only by the client, `tail` only by the server, on separate cache
/// lines. With 128-byte cache lines (VPP on aarch64, gotcha G1) tail moves to 128 and the
/// descriptors to 256; nothing on the wire says which, so it is configuration.
public struct RingLayout: Hashable, Sendable {
    public static let cookieOffset = Int(CMEMIF_RING_COOKIE_OFFSET)
    public static let flagsOffset = Int(CMEMIF_RING_FLAGS_OFFSET)
    public static let headOffset = Int(CMEMIF_RING_HEAD_OFFSET)
    public static let descriptorSize = MemoryLayout<cmemif_desc_t>.size

    /// The cache-line size the peer was built with: 64 (x86, libmemif, DPDK) or 128.
    public let cacheLineSize: Int

    public init(cacheLineSize: Int = 64) {
        precondition(cacheLineSize == 64 || cacheLineSize == 128, "memif cache lines are 64 or 128 bytes")
        self.cacheLineSize = cacheLineSize
    }

    public var tailOffset: Int { cacheLineSize }
    /// Two cache lines of header precede the descriptors.
    public var descriptorsOffset: Int { 2 * cacheLineSize }

    /// Bytes one ring of 2^log2 slots occupies (`RS` in the reference).
    public func ringBytes(log2RingSize: UInt8) -> Int {
        descriptorsOffset + RingLayout.descriptorSize << Int(log2RingSize)
    }
}
