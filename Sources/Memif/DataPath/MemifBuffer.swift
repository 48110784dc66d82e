/// A view of one buffer in shared memory: a received segment, or a free buffer to fill.
///
/// Views are handed out by ``MemifRxQueue/receive(into:)`` and ``MemifTxQueue/reserve(into:)``
/// and are valid until the matching ``MemifRxQueue/release()`` or ``MemifTxQueue/publish(_:count:)``.
/// A packet larger than one buffer is a chain: consecutive views, all but the last with
/// ``hasNext`` set.
@frozen
public struct MemifBuffer: BitwiseCopyable {
    /// First byte of the segment in shared memory.
    public var data: UnsafeMutableRawPointer
    /// Bytes of packet in this segment: set by receive; set by the sender before publish.
    public var length: UInt32
    /// Bytes this buffer can hold (transmit side); equals `length` on receive.
    public var capacity: UInt32
    /// `MEMIF_DESC_FLAG_NEXT` and nothing else.
    public var flags: UInt16
    /// Free-running ring index of the slot this view came from.
    @usableFromInline var slot: UInt16

    @inlinable @inline(__always)
    init(data: UnsafeMutableRawPointer, length: UInt32, capacity: UInt32, flags: UInt16, slot: UInt16) {
        self.data = data
        self.length = length
        self.capacity = capacity
        self.flags = flags
        self.slot = slot
    }

    /// A placeholder used to fill burst arrays before their first use.
    public init() {
        self.init(data: MemifBuffer.placeholder, length: 0, capacity: 0, flags: 0, slot: 0)
    }

    /// True when the packet continues in the next view.
    @inlinable
    public var hasNext: Bool {
        get { flags & MemifProtocol.descriptorFlagNext != 0 }
        set { flags = newValue ? MemifProtocol.descriptorFlagNext : 0 }
    }

    /// The segment's bytes.
    @inlinable
    public var bytes: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: data, count: Int(length)) }

    nonisolated(unsafe) private static let placeholder = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
}

/// A burst array allocated once and reused for every burst, so the data path never allocates.
public struct MemifBurst: ~Copyable {
    public let buffers: UnsafeMutableBufferPointer<MemifBuffer>

    public init(capacity: Int) {
        precondition(capacity > 0, "a burst holds at least one buffer")
        buffers = .allocate(capacity: capacity)
        buffers.initialize(repeating: MemifBuffer())
    }

    deinit { buffers.deallocate() }

    public var capacity: Int { buffers.count }

    @inlinable
    public subscript(i: Int) -> MemifBuffer {
        get { buffers[i] }
        nonmutating set { buffers[i] = newValue }
    }
}
