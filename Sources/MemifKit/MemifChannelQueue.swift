/// One queue pair of a ``MemifChannel`` as a data-path thread drives it. It follows the
/// channel across reconnects: while connected, each call goes straight to the current
/// connection's rings; only when that connection is gone does it look up the next one.
///
/// Same rules as the core queues: one thread at a time, views valid until ``release()``
/// (receive) or ``publish(_:count:)`` (transmit).
public struct MemifChannelQueue: @unchecked Sendable {
    public let channel: MemifChannel
    public let index: Int
    @usableFromInline var rx: MemifRxQueue?
    @usableFromInline var tx: MemifTxQueue?

    init(channel: MemifChannel, index: Int) {
        self.channel = channel
        self.index = index
    }

    /// Picks up the channel's current connection; false while there is none. Out of line:
    /// it runs only after a disconnect.
    @usableFromInline @inline(never)
    mutating func follow() -> Bool {
        guard let connection = channel.connection, connection.isConnected,
            index < connection.receiveQueueCount, index < connection.transmitQueueCount
        else {
            rx = nil
            tx = nil
            return false
        }
        rx = connection.receiveQueue(index)
        tx = connection.transmitQueue(index)
        if channel.options.receiveMode == .interrupt { rx?.setInterruptMode(true) }
        return true
    }

    @inlinable
    public var isConnected: Bool { rx?.isActive ?? false }

    /// Receives up to `buffers.count` segments of whole packets (see ``MemifRxQueue/receive(into:)``).
    @inlinable
    public mutating func receive(into buffers: UnsafeMutableBufferPointer<MemifBuffer>) -> Int {
        if rx?.isActive != true {
            guard follow() else { return 0 }
        }
        return rx!.receive(into: buffers)  // in place: `if let rx` would retain per burst
    }

    /// Gives back every slot the last receives handed out.
    @inlinable
    public func release() { rx?.release() }

    /// Hands out free transmit buffers (see ``MemifTxQueue/reserve(into:)``).
    @inlinable
    public mutating func reserve(into buffers: UnsafeMutableBufferPointer<MemifBuffer>) -> Int {
        if tx?.isActive != true {
            guard follow() else { return 0 }
        }
        return tx!.reserve(into: buffers)
    }

    /// Publishes the first `count` reserved buffers (see ``MemifTxQueue/publish(_:count:)``).
    @inlinable
    @discardableResult
    public func publish(_ buffers: UnsafeMutableBufferPointer<MemifBuffer>, count: Int) -> Int {
        tx?.publish(buffers, count: count) ?? 0
    }

    /// The current connection's receive queue, for statistics or its eventfd.
    public var receiveQueue: MemifRxQueue? { rx }
    public var transmitQueue: MemifTxQueue? { tx }
}
