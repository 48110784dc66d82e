import CMemifDSA
import MemifCopy
import Testing

@Suite("DSA descriptor and record layout (reference section 1)")
struct DescriptorGoldenTests {
    func slot() -> UnsafeMutableRawPointer {
        let p = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        p.initializeMemory(as: UInt8.self, repeating: 0xEE, count: 64)
        return p
    }

    @Test func memmoveGoldenBytes() {
        let p = slot()
        defer { p.deallocate() }
        DSADescriptor.writeMemmove(
            p, flags: DSAFlag.completionAddressValid | DSAFlag.requestCompletionRecord | DSAFlag.cacheControl,
            completion: 0x0000_7F00_1122_3340, source: 0x0000_7F00_AABB_CC00, destination: 0x0000_7F00_DDEE_FF00, size: 1500)
        let expected: [UInt8] =
            [0, 0, 0, 0, 0x0C, 0x01, 0x00, 0x03]  // pasid/priv 0; flags 0x10C, opcode 3 in byte 7
            + [0x40, 0x33, 0x22, 0x11, 0x00, 0x7F, 0, 0]  // completion_addr
            + [0x00, 0xCC, 0xBB, 0xAA, 0x00, 0x7F, 0, 0]  // src_addr
            + [0x00, 0xFF, 0xEE, 0xDD, 0x00, 0x7F, 0, 0]  // dst_addr
            + [0xDC, 0x05, 0, 0]  // xfer_size 1500
            + [0, 0, 0, 0]  // int_handle, rsvd1
            + [UInt8](repeating: 0, count: 24)  // op-specific
        #expect(Array(UnsafeRawBufferPointer(start: p, count: 64)) == expected)
    }

    @Test func batchGoldenBytes() {
        let p = slot()
        defer { p.deallocate() }
        DSADescriptor.writeBatch(
            p, flags: DSAFlag.completionAddressValid | DSAFlag.requestCompletionRecord, completion: 0x1000_0020,
            list: 0x2000_0040, count: 32)
        let expected: [UInt8] =
            [0, 0, 0, 0, 0x0C, 0x00, 0x00, 0x01]
            + [0x20, 0, 0, 0x10, 0, 0, 0, 0]
            + [0x40, 0, 0, 0x20, 0, 0, 0, 0]  // desc_list_addr
            + [UInt8](repeating: 0, count: 8)
            + [32, 0, 0, 0]  // desc_count
            + [UInt8](repeating: 0, count: 28)
        #expect(Array(UnsafeRawBufferPointer(start: p, count: 64)) == expected)
    }

    /// The same descriptor through the kernel header's struct, as Swift imports it.
    @Test func agreesWithLinuxIdxdHeader() {
        #expect(MemoryLayout<dsa_hw_desc>.size == 64)
        #expect(MemoryLayout<dsa_completion_record>.size == 32)
        var c = dsa_hw_desc()
        c.opcode = UInt32(DSA_OPCODE_MEMMOVE.rawValue)
        c.flags = UInt32(IDXD_OP_FLAG_CRAV | IDXD_OP_FLAG_CC)
        c.completion_addr = 0x4000
        c.src_addr = 0x5000
        c.dst_addr = 0x6000
        c.xfer_size = 64
        let p = slot()
        defer { p.deallocate() }
        DSADescriptor.writeMemmove(
            p, flags: DSAFlag.completionAddressValid | DSAFlag.cacheControl, completion: 0x4000, source: 0x5000,
            destination: 0x6000, size: 64)
        let fromHeader = withUnsafeBytes(of: &c) { Array($0) }
        #expect(Array(UnsafeRawBufferPointer(start: p, count: 64)) == fromHeader)
    }

    @Test func completionRecordFields() {
        let r = UnsafeMutableRawPointer.allocate(byteCount: 32, alignment: 32)
        defer { r.deallocate() }
        let bytes: [UInt8] =
            [0x83, 0x01, 0, 0, 0x00, 0x10, 0, 0] + [0x08, 0x30, 0x22, 0x11, 0, 0, 0, 0] + [0x11, 0x01, 0, 0]
            + [UInt8](repeating: 0, count: 12)
        r.copyMemory(from: bytes, byteCount: 32)
        let record = DSACompletionRecord(r)
        #expect(record.code == DSAStatus.pageFault)
        #expect(record.faultWasWrite)
        #expect(record.descending)
        #expect(record.bytesCompleted == 4096)
        #expect(record.faultAddress == 0x1122_3008)
        #expect(record.invalidFlags == 0x111)
    }

    @Test func cpuFeatureProbeDoesNotTrap() {
        // On this AMD host both are 0; the point is that asking is safe everywhere.
        let movdir = cmemif_cpu_has_movdir64b()
        let enqcmd = cmemif_cpu_has_enqcmd()
        #expect(movdir == 0 || movdir == 1)
        #expect(enqcmd == 0 || enqcmd == 1)
    }
}
