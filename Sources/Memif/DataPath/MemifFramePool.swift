/// A view of frames a source sends in turn: `count` frames of `length` bytes, `stride` bytes
/// apart, in memory the caller owns. Traffic of several flows (one frame per flow); with
/// enough of them the frames are read from memory beyond L1, unlike one template.
public struct MemifFramePool {
    /// The first frame; frame i starts `i * stride` bytes after it.
    public let base: UnsafeRawPointer
    public let length: Int
    public let stride: Int
    public let count: Int

    /// The frames of `length` bytes that fit in `bytes` at `stride` apart. `bytes` must stay
    /// valid while the pool is used and hold at least one frame.
    public init(_ bytes: UnsafeRawBufferPointer, length: Int, stride: Int) {
        precondition(length > 0 && stride >= length, "a frame must be non-empty and fit its stride")
        precondition(bytes.count >= length, "the memory must hold at least one frame")
        base = bytes.baseAddress.unsafelyUnwrapped
        self.length = length
        self.stride = stride
        count = (bytes.count - length) / stride + 1
    }

    /// Frame `i` (0 ..< count), not checked: the source's cursor stays in range by construction.
    @inlinable @inline(__always)
    public subscript(i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + i &* stride, count: length)
    }
}
