/// Numbers of the DSA descriptor and completion-record formats (reference/dsa.md 1.1-1.6),
/// written by byte offset so the layout does not depend on how a packed C struct imports.
public enum DSAOpcode {
    public static let noop: UInt8 = 0x00
    public static let batch: UInt8 = 0x01
    public static let drain: UInt8 = 0x02
    public static let memmove: UInt8 = 0x03
}

/// Descriptor flags (24-bit field at byte 4).
public enum DSAFlag {
    public static let fence: UInt32 = 0x0001
    public static let blockOnFault: UInt32 = 0x0002
    public static let completionAddressValid: UInt32 = 0x0004
    public static let requestCompletionRecord: UInt32 = 0x0008
    public static let requestCompletionInterrupt: UInt32 = 0x0010
    public static let cacheControl: UInt32 = 0x0100
    public static let address1TrafficClass: UInt32 = 0x0200
    public static let address2TrafficClass: UInt32 = 0x0400
    public static let strictOrdering: UInt32 = 0x2000
    public static let destinationReadback: UInt32 = 0x4000
    public static let destinationSteering: UInt32 = 0x8000
}

/// Completion status codes (bits 6:0 of record byte 0; bit 7 marks a fault on a write).
public enum DSAStatus {
    public static let none: UInt8 = 0x00
    public static let success: UInt8 = 0x01
    public static let pageFault: UInt8 = 0x03
    public static let pageFaultInvalidResponse: UInt8 = 0x04
    public static let batchFailure: UInt8 = 0x05
    public static let batchPageFault: UInt8 = 0x06
    public static let badOpcode: UInt8 = 0x10
    public static let invalidFlags: UInt8 = 0x11
    public static let reservedNonZero: UInt8 = 0x12
    public static let transferSizeRange: UInt8 = 0x13
    public static let descriptorCountRange: UInt8 = 0x14
    public static let descriptorListAlignment: UInt8 = 0x18
    public static let completionAddressTranslation: UInt8 = 0x1A
    public static let privilegeBad: UInt8 = 0x1D
    /// Mask of the status proper; 0x80 is the read/write bit of a page fault.
    public static let mask: UInt8 = 0x7F
    public static let faultOnWrite: UInt8 = 0x80
}

/// Byte offsets inside a 64-byte descriptor and a 32-byte completion record.
public enum DSALayout {
    public static let descriptorSize = 64
    public static let recordSize = 32
    public static let recordAlignment = 32
    public static let flagsOffset = 4
    public static let opcodeOffset = 7
    public static let completionOffset = 8
    public static let sourceOffset = 16
    public static let destinationOffset = 24
    public static let sizeOffset = 32
    public static let interruptHandleOffset = 36
    public static let reserved1Offset = 38
    public static let opSpecificOffset = 40
    public static let recordResultOffset = 1
    public static let recordBytesCompletedOffset = 4
    public static let recordFaultAddressOffset = 8
    public static let recordInvalidFlagsOffset = 16
}

/// Writes descriptors into 64-byte slots; every byte of the slot is written, so a slot
/// reused from an earlier burst (or overwritten by an error record) carries nothing over.
public enum DSADescriptor {
    /// A MEMMOVE of `size` bytes. PASID and priv are 0 (reference 7.2).
    @inlinable @inline(__always)
    public static func writeMemmove(
        _ slot: UnsafeMutableRawPointer, flags: UInt32, completion: UInt64, source: UInt64, destination: UInt64,
        size: UInt32
    ) {
        slot.storeBytes(of: UInt64(flags | UInt32(DSAOpcode.memmove) << 24) << 32, as: UInt64.self)
        slot.storeBytes(of: completion, toByteOffset: 8, as: UInt64.self)
        slot.storeBytes(of: source, toByteOffset: 16, as: UInt64.self)
        slot.storeBytes(of: destination, toByteOffset: 24, as: UInt64.self)
        slot.storeBytes(of: UInt64(size), toByteOffset: 32, as: UInt64.self)
        slot.storeBytes(of: 0 as UInt64, toByteOffset: 40, as: UInt64.self)
        slot.storeBytes(of: 0 as UInt64, toByteOffset: 48, as: UInt64.self)
        slot.storeBytes(of: 0 as UInt64, toByteOffset: 56, as: UInt64.self)
    }

    /// A BATCH of `count` descriptors at `list` (64-byte aligned).
    @inlinable @inline(__always)
    public static func writeBatch(_ slot: UnsafeMutableRawPointer, flags: UInt32, completion: UInt64, list: UInt64, count: UInt32) {
        slot.storeBytes(of: UInt64(flags | UInt32(DSAOpcode.batch) << 24) << 32, as: UInt64.self)
        slot.storeBytes(of: completion, toByteOffset: 8, as: UInt64.self)
        slot.storeBytes(of: list, toByteOffset: 16, as: UInt64.self)
        slot.storeBytes(of: 0 as UInt64, toByteOffset: 24, as: UInt64.self)
        slot.storeBytes(of: UInt64(count), toByteOffset: 32, as: UInt64.self)
        slot.storeBytes(of: 0 as UInt64, toByteOffset: 40, as: UInt64.self)
        slot.storeBytes(of: 0 as UInt64, toByteOffset: 48, as: UInt64.self)
        slot.storeBytes(of: 0 as UInt64, toByteOffset: 56, as: UInt64.self)
    }

    /// A NOOP or DRAIN with only completion fields (probing the `write()` path).
    public static func writeControl(_ slot: UnsafeMutableRawPointer, opcode: UInt8, flags: UInt32, completion: UInt64) {
        slot.initializeMemory(as: UInt8.self, repeating: 0, count: DSALayout.descriptorSize)
        slot.storeBytes(of: flags | UInt32(opcode) << 24, toByteOffset: 4, as: UInt32.self)
        slot.storeBytes(of: completion, toByteOffset: 8, as: UInt64.self)
    }

    @inlinable @inline(__always)
    public static func flags(_ slot: UnsafeRawPointer) -> UInt32 {
        slot.load(fromByteOffset: 4, as: UInt32.self) & 0x00FF_FFFF
    }

    @inlinable @inline(__always)
    public static func setFlags(_ slot: UnsafeMutableRawPointer, _ flags: UInt32) {
        let word = slot.load(fromByteOffset: 4, as: UInt32.self)
        slot.storeBytes(of: word & 0xFF00_0000 | flags, toByteOffset: 4, as: UInt32.self)
    }
}

/// A completion record read after its status byte was seen non-zero (acquire).
public struct DSACompletionRecord: Equatable, Sendable {
    public var status: UInt8
    public var result: UInt8
    /// `bytes_completed`, or `descs_completed` for a BATCH.
    public var bytesCompleted: UInt32
    public var faultAddress: UInt64
    public var invalidFlags: UInt32

    public init(_ record: UnsafeRawPointer) {
        status = record.load(as: UInt8.self)
        result = record.load(fromByteOffset: 1, as: UInt8.self)
        bytesCompleted = record.load(fromByteOffset: 4, as: UInt32.self)
        faultAddress = record.load(fromByteOffset: 8, as: UInt64.self)
        invalidFlags = record.load(fromByteOffset: 16, as: UInt32.self) & 0x00FF_FFFF
    }

    /// The status without the read/write bit.
    public var code: UInt8 { status & DSAStatus.mask }
    public var faultWasWrite: Bool { status & DSAStatus.faultOnWrite != 0 }
    /// MEMMOVE partial completion: true when the device copied from the end down.
    public var descending: Bool { result & 1 != 0 }
}
