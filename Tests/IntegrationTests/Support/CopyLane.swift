import Foundation
import Memif
import MemifCopy

/// A server queue pair in copy mode for tests: frames are staged in local buffers (as a
/// node's uplink buffers would be), sent through a ``MemifCopyTransmitter`` and received
/// through a ``MemifCopyReceiver``, both on the same kind of engine.
final class CopyLane<Engine: CopyEngine> {
    let transmitter: MemifCopyTransmitter<Engine>
    let receiver: MemifCopyReceiver<Engine>
    /// Local frame slots, reused only after complete() reported their burst.
    let staging: UnsafeMutableRawPointer
    let stagingSlots = 512
    let slotBytes = 9216
    let destinations: MemifBurst
    let destinationMemory: UnsafeMutableRawPointer
    let packets = MemifBurst(capacity: 64)
    private(set) var staged = 0
    private(set) var completed = 0
    private var partial: [UInt8] = []

    init(tx: MemifTxQueue, rx: MemifRxQueue, txEngine: Engine, rxEngine: Engine, register: (UnsafeMutableRawBufferPointer) -> Void) {
        transmitter = MemifCopyTransmitter(queue: tx, engine: txEngine)
        receiver = MemifCopyReceiver(queue: rx, engine: rxEngine)
        staging = .allocate(byteCount: stagingSlots * slotBytes, alignment: 4096)
        staging.initializeMemory(as: UInt8.self, repeating: 0, count: stagingSlots * slotBytes)
        destinations = MemifBurst(capacity: 256)
        destinationMemory = .allocate(byteCount: 256 * 9216, alignment: 4096)
        destinationMemory.initializeMemory(as: UInt8.self, repeating: 0, count: 256 * 9216)
        for i in 0..<256 {
            destinations[i].data = destinationMemory + i * 9216
            destinations[i].capacity = 9216
        }
        register(UnsafeMutableRawBufferPointer(start: staging, count: stagingSlots * slotBytes))
        register(UnsafeMutableRawBufferPointer(start: destinationMemory, count: 256 * 9216))
    }

    deinit {
        staging.deallocate()
        destinationMemory.deallocate()
    }

    /// Stages and sends as many of `frames` as fit now; returns how many went.
    func send(_ frames: ArraySlice<[UInt8]>) -> Int {
        completed += transmitter.complete()
        var n = 0
        for frame in frames.prefix(packets.capacity) where staged + n - completed < stagingSlots {
            let slot = staging + ((staged + n) % stagingSlots) * slotBytes
            frame.withUnsafeBytes { slot.copyMemory(from: $0.baseAddress!, byteCount: frame.count) }
            packets[n].data = slot
            packets[n].length = UInt32(frame.count)
            n += 1
        }
        guard n > 0 else { return 0 }
        let taken = transmitter.send(packets.buffers, count: n)
        staged += taken
        return taken
    }

    /// Publishes whatever finished (the caller polls this while waiting).
    func pump() { completed += transmitter.complete() }

    /// Receives whole frames until `count` arrived or `deadline`; each burst is handed up
    /// only after complete() says its copies are done.
    func receive(_ count: Int, deadline: Date) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        while frames.count < count && Date() < deadline {
            pump()
            let n = receiver.receive(into: destinations.buffers)
            if n == 0 {
                usleep(50)
                continue
            }
            // Hand up only what was copied, however long the device takes (up to its own
            // deadline, after which the engine redoes the copies on the CPU).
            var done = 0
            let copyDeadline = Date().addingTimeInterval(5)
            while done < n && Date() < copyDeadline {
                done += receiver.complete()
                pump()
            }
            precondition(done >= n, "copies never completed")
            for i in 0..<n {
                let b = destinations[i]
                partial += Array(UnsafeRawBufferPointer(start: b.data, count: Int(b.length)))
                if !b.hasNext {
                    frames.append(partial)
                    partial = []
                }
            }
        }
        return frames
    }
}
