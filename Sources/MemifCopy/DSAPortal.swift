import CMemifDSA

#if canImport(Glibc)
import Glibc
#endif

/// How a work queue takes descriptors: the one thing that differs between real hardware
/// and the model (reference 5.2). Everything else in ``DSACopyEngine`` is shared.
public protocol DSAPortal {
    /// Dedicated queues drop what exceeds their size; shared queues refuse (retry).
    var isDedicated: Bool { get }
    /// Submits `count` contiguous 64-byte descriptors. Stops at the first refusal or error.
    func submit(_ descriptors: UnsafeRawPointer, count: Int) -> PortalSubmission
    /// Memory the device will read or write (rings, records, packet buffers). Real
    /// hardware translates through the process page tables and ignores this; the model
    /// only touches registered memory.
    func register(_ memory: UnsafeMutableRawBufferPointer)
}

public struct PortalSubmission: Equatable, Sendable {
    public enum Outcome: Equatable, Sendable {
        case accepted
        /// Queue full (ENQCMD ZF=1 or `write()` EAGAIN): try again.
        case retry
        /// `write()` failed with this errno (EINVAL for a BATCH on DSA 1.0, EFAULT, ...).
        case failed(Int32)
    }

    public var accepted: Int
    public var outcome: Outcome

    @inlinable public init(accepted: Int, outcome: Outcome) {
        self.accepted = accepted
        self.outcome = outcome
    }
}

/// A dedicated queue's mapped portal: MOVDIR64B, posted, no feedback. Occupancy is the
/// engine's to count. Only constructed after the CPUID check.
public struct MovDir64BPortal: DSAPortal, @unchecked Sendable {
    @usableFromInline let portal: UnsafeMutableRawPointer
    public init(portal: UnsafeMutableRawPointer) { self.portal = portal }
    public var isDedicated: Bool { true }

    @inlinable @inline(__always)
    public func submit(_ descriptors: UnsafeRawPointer, count: Int) -> PortalSubmission {
        for i in 0..<count { cmemif_movdir64b(portal, descriptors + i &* 64) }
        return PortalSubmission(accepted: count, outcome: .accepted)
    }

    public func register(_ memory: UnsafeMutableRawBufferPointer) {}
}

/// A shared queue's mapped portal: ENQCMD, which reports refusal (ZF=1).
public struct EnqcmdPortal: DSAPortal, @unchecked Sendable {
    @usableFromInline let portal: UnsafeMutableRawPointer
    public init(portal: UnsafeMutableRawPointer) { self.portal = portal }
    public var isDedicated: Bool { false }

    @inlinable @inline(__always)
    public func submit(_ descriptors: UnsafeRawPointer, count: Int) -> PortalSubmission {
        for i in 0..<count where cmemif_enqcmd(portal, descriptors + i &* 64) != 0 {
            return PortalSubmission(accepted: i, outcome: .retry)
        }
        return PortalSubmission(accepted: count, outcome: .accepted)
    }

    public func register(_ memory: UnsafeMutableRawBufferPointer) {}
}

/// The kernel's `write()` submission (INTEL-SA-01084: no portal mapping without
/// CAP_SYS_RAWIO): one system call per burst, partial counts as the kernel returns them.
public struct WriteSubmissionPortal: DSAPortal, Sendable {
    public let fd: Int32
    public let isDedicated: Bool
    public init(fd: Int32, isDedicated: Bool) {
        self.fd = fd
        self.isDedicated = isDedicated
    }

    public func submit(_ descriptors: UnsafeRawPointer, count: Int) -> PortalSubmission {
        let n = write(fd, descriptors, count &* 64)
        if n < 0 {
            let e = errno
            return PortalSubmission(accepted: 0, outcome: e == EAGAIN ? .retry : .failed(e))
        }
        let accepted = n / 64
        return PortalSubmission(accepted: accepted, outcome: accepted == count ? .accepted : .retry)
    }

    public func register(_ memory: UnsafeMutableRawBufferPointer) {}
}
