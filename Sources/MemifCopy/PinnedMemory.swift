#if canImport(Glibc)
import Glibc
#endif

/// Memory the device reads and writes on its own: descriptor rings and completion records.
/// Aligned, zeroed (which also touches every page), and `mlock`ed where the limit allows,
/// because a fault on a completion record is invisible on DSA 1.0 (reference 2.5, 0x1A).
final class PinnedMemory {
    let base: UnsafeMutableRawPointer
    let byteCount: Int
    /// False when `mlock` was refused (RLIMIT_MEMLOCK); the pages are still touched.
    let locked: Bool

    init(byteCount: Int, alignment: Int) {
        let size = max(byteCount, alignment)
        base = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: max(alignment, 64))
        base.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        self.byteCount = size
        locked = mlock(base, size) == 0
    }

    var buffer: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: base, count: byteCount) }

    deinit {
        if locked { munlock(base, byteCount) }
        base.deallocate()
    }
}
