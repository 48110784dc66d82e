import CMemifLinux

#if canImport(Glibc)
import Glibc
#endif

/// One memif region mapped into this process: the client creates it from a sealed memfd,
/// the server maps what the client sent after checking it cannot shrink under us.
///
/// The mapping lives until the last reference goes, not until disconnect: data-path
/// threads may still hold queue handles into it, and unmapping under them would fault.
final class SharedRegion: @unchecked Sendable {
    /// Immutable after init; the bytes behind it are shared with the peer process.
    let base: UnsafeMutableRawPointer
    let size: UInt64
    /// The memfd: the client sends it in ADD_REGION; the server keeps it only while mapped.
    let descriptor: OwnedDescriptor

    private init(base: UnsafeMutableRawPointer, size: UInt64, descriptor: OwnedDescriptor) {
        self.base = base
        self.size = size
        self.descriptor = descriptor
    }

    deinit { munmap(base, Int(size)) }

    /// Client side: a new zero-filled memfd of `size` bytes, sealed against shrinking and
    /// growing so the server can map it safely, then mapped.
    static func create(size: UInt64, name: String) throws(MemifError) -> SharedRegion {
        let fd = cmemif_memfd_create(name)
        guard fd >= 0 else { throw MemifError.system("memfd_create") }
        let descriptor = OwnedDescriptor(fd)
        try retryingInterrupts("ftruncate") { ftruncate(fd, off_t(size)) }
        guard cmemif_seal_region(fd) == 0 else { throw MemifError.system("fcntl(F_ADD_SEALS)") }
        return try map(descriptor, size: size)
    }

    /// Server side: maps a region fd received from a client, after checking that the file
    /// is at least `size` bytes and, unless `requireShrinkSeal` is false, sealed against
    /// shrinking (an unsealed file could be truncated later and SIGBUS us).
    static func adopt(_ descriptor: OwnedDescriptor, size: UInt64, requireShrinkSeal: Bool) throws(MemifError)
        -> SharedRegion
    {
        guard size > 0, size <= UInt64(Int.max) else {
            throw MemifError(.invalidPeerMemory, "region size \(size) is not mappable")
        }
        var info = stat()
        guard fstat(descriptor.raw, &info) == 0 else { throw MemifError.system("fstat(region)") }
        guard info.st_size >= 0, UInt64(info.st_size) >= size else {
            throw MemifError(.invalidPeerMemory, "region file has \(info.st_size) bytes, \(size) announced")
        }
        if requireShrinkSeal {
            let sealed = cmemif_has_shrink_seal(descriptor.raw)
            guard sealed == 1 else { throw MemifError(.invalidPeerMemory, "region file is not sealed against shrinking") }
        }
        return try map(descriptor, size: size)
    }

    private static func map(_ descriptor: OwnedDescriptor, size: UInt64) throws(MemifError) -> SharedRegion {
        guard let base = mmap(nil, Int(size), PROT_READ | PROT_WRITE, MAP_SHARED, descriptor.raw, 0),
            base != MAP_FAILED
        else { throw MemifError.system("mmap(region)") }
        return SharedRegion(base: base, size: size, descriptor: descriptor)
    }

    /// True when `count` bytes at `offset` lie inside the region (64-bit arithmetic).
    func contains(offset: UInt64, count: UInt64) -> Bool {
        offset <= size && count <= size - offset
    }
}
