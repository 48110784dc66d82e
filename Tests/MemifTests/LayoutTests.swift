import CMemifLinux
import Testing

@testable import Memif

/// Shared-memory layouts against reference sections 2.1-2.3.
@Suite struct LayoutTests {
    @Test func descriptorIs16BytesWithFieldsAtTheirOffsets() {
        #expect(MemoryLayout<cmemif_desc_t>.size == 16)
        #expect(MemoryLayout<cmemif_desc_t>.offset(of: \.flags) == 0)
        #expect(MemoryLayout<cmemif_desc_t>.offset(of: \.region) == 2)
        #expect(MemoryLayout<cmemif_desc_t>.offset(of: \.length) == 4)
        #expect(MemoryLayout<cmemif_desc_t>.offset(of: \.offset) == 8)
        #expect(MemoryLayout<cmemif_desc_t>.offset(of: \.metadata) == 12)
    }

    @Test func ringHeaderWith64ByteCacheLines() {
        let l = RingLayout()
        #expect(RingLayout.cookieOffset == 0)
        #expect(RingLayout.flagsOffset == 4)
        #expect(RingLayout.headOffset == 6)
        #expect(l.tailOffset == 64)
        #expect(l.descriptorsOffset == 128)
    }

    @Test func ringHeaderWith128ByteCacheLines() {
        let l = RingLayout(cacheLineSize: 128)
        #expect(l.tailOffset == 128)
        #expect(l.descriptorsOffset == 256)
        #expect(l.ringBytes(log2RingSize: 10) == 256 + 16 * 1024)
    }

    @Test(arguments: [(UInt8(10), 16512), (11, 32896), (12, 65664), (14, 262_272)])
    func ringBytesMatchTheReference(_ log2: UInt8, _ bytes: Int) {
        #expect(RingLayout().ringBytes(log2RingSize: log2) == bytes)
    }

    @Test func oneBufferPerSlotIsDPDKsLayout() throws {
        var c = MemifConfiguration(role: .client, socket: try MemifSocketName("@x"))
        c.buffersPerSlot = 1
        let l = ClientMemoryLayout(configuration: c, log2RingSize: 10)
        #expect(l.regionSizes == [4_227_328])
        #expect(l.ringOffset(global: 0) == 0)
        #expect(l.ringOffset(global: 1) == 16512)
        #expect(l.bufferOffset(global: 0) == 33024)
        #expect(l.bufferOffset(global: 1) == 33024 + 1024 * 2048)
    }

    @Test func defaultLayoutGivesEverySlotTwoBuffers() throws {
        let c = MemifConfiguration(role: .client, socket: try MemifSocketName("@x"))
        let l = ClientMemoryLayout(configuration: c, log2RingSize: 10)
        #expect(l.regionSizes == [33024 + 4 * 1024 * 2048])
        #expect(l.buffersPerRing == 2048)
        #expect(l.bufferOffset(global: 1) == 33024 + 2 * 1024 * 2048)
    }

    @Test func separateBufferRegionIsLibmemifs() throws {
        var c = MemifConfiguration(role: .client, socket: try MemifSocketName("@x"))
        c.buffersPerSlot = 1
        c.regionLayout = .separateBufferRegion
        let l = ClientMemoryLayout(configuration: c, log2RingSize: 10)
        #expect(l.regionSizes == [33024, 4_194_304])
        #expect(l.bufferRegion == 1)
        #expect(l.bufferOffset(global: 1) == 1024 * 2048)
    }

    @Test func ringInitialisationWritesCookieAndZeroIndices() {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: 16512, alignment: 64)
        defer { memory.deallocate() }
        memory.initializeMemory(as: UInt8.self, repeating: 0xAB, count: 16512)
        Ring(header: memory, layout: RingLayout(), log2RingSize: 10).initialize()
        #expect(Array(UnsafeRawBufferPointer(start: memory, count: 8)) == [0x20, 0x1F, 0xE3, 0x03, 0, 0, 0, 0])
        #expect(memory.load(fromByteOffset: 64, as: UInt16.self) == 0)
    }

    @Test func configurationRefusesOutOfRangeValues() throws {
        let socket = try MemifSocketName("@x")
        var bad: [MemifConfiguration] = []
        for edit in [
            { (c: inout MemifConfiguration) in c.clientToServerQueues = 0 },
            { $0.serverToClientQueues = 256 },
            { $0.log2RingSize = 15 },
            { $0.log2RingSize = 0 },
            { $0.bufferSize = 65536 },
            { $0.secret = String(repeating: "s", count: 24) },
            { $0.interfaceName = String(repeating: "n", count: 32) },
            { $0.mode = .puntInject },
            { $0.queues = 255; $0.log2RingSize = 14; $0.bufferSize = 65535 },
        ] {
            var c = MemifConfiguration(role: .client, socket: socket)
            edit(&c)
            bad.append(c)
        }
        for c in bad {
            #expect(throws: MemifError.self) { try c.validate() }
        }
        try MemifConfiguration(role: .client, socket: socket, secret: String(repeating: "s", count: 23)).validate()
    }

    @Test func socketNamesFollowEachPeersSpelling() throws {
        #expect(try MemifSocketName("@vpp/memif").kind == .abstract)
        #expect(try MemifSocketName("@vpp/memif").name == "vpp/memif")
        #expect(try MemifSocketName("abstract:memif1").name == "memif1")
        #expect(try MemifSocketName("/run/memif.sock").kind == .filesystem)
        #expect(throws: MemifError.self) { try MemifSocketName("@") }
        #expect(throws: MemifError.self) { try MemifSocketName("/" + String(repeating: "a", count: 107)) }
        _ = try MemifSocketName("/" + String(repeating: "a", count: 106))
    }
}

extension MemifConfiguration {
    /// Test convenience: both directions at once.
    var queues: Int {
        get { clientToServerQueues }
        set {
            clientToServerQueues = newValue
            serverToClientQueues = newValue
        }
    }
}
