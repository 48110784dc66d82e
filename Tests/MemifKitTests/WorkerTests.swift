import Foundation
import MemifKit
import Synchronization
import Testing

/// Workers deliver every packet in each receive mode, sleep when idle (interrupt), and stop.
@Suite(.serialized) struct WorkerTests {
    struct Reflector: ~Copyable {
        var queue: MemifChannelQueue
        let received = MemifBurst(capacity: 32)
        let free = MemifBurst(capacity: 32)
    }

    @Test(arguments: [
        (MemifReceiveMode.polling, 0), (.polling, 200_000), (.interrupt, 0), (.adaptive(idlePolls: 100), 0),
    ])
    func aReflectorWorkerEchoesEveryPacket(mode: MemifReceiveMode, idlePauseNanoseconds: Int) throws {
        let idlePause = try MemifIdlePause(nanoseconds: idlePauseNanoseconds)
        let pair = try ChannelPair(client: { $0.receiveMode = mode })
        #expect(pair.client.waitUntilConnected(timeout: .seconds(5)) && pair.server.waitUntilConnected(timeout: .seconds(5)))
        let rounds = Atomic<Int>(0)
        let queue = pair.client.queue(0)
        let worker = MemifWorker.start(
            name: "reflector", receiveMode: mode, wakeOn: [queue], idlePause: idlePause,
            makeState: { Reflector(queue: queue) },
            body: { state in
                rounds.add(1, ordering: .relaxed)
                let n = state.queue.receive(into: state.received.buffers)
                guard n > 0 else { return 0 }
                let free = state.queue.reserve(into: state.free.buffers)
                var used = 0
                var first = 0
                while first < n {
                    var last = first
                    while last < n - 1 && state.received[last].hasNext { last += 1 }
                    let k = MemifTxQueue.copy(
                        segments: UnsafeMutableBufferPointer(rebasing: state.received.buffers[first...last]),
                        into: state.free.buffers, from: used, to: free)
                    if k == 0 { break }
                    used += k
                    first = last + 1
                }
                state.queue.release()
                state.queue.publish(state.free.buffers, count: used)
                return n
            })
        defer { worker.stop() }
        var s = pair.server.queue(0)
        for round in 0..<5 {
            let frames = (0..<40).map { frame(round * 100 + $0, size: 200) }
            let deadline = Date().addingTimeInterval(10)
            #expect(send(frames, on: &s, deadline: deadline) == 40)
            #expect(receive(40, from: &s, deadline: deadline) == frames)
            usleep(20_000)  // idle gaps: interrupt and adaptive workers go to sleep
        }
        // An idle worker sleeps on the eventfd (50 ms at most per sleep) instead of
        // spinning: in 300 ms it runs at most the polls before each sleep plus a re-check.
        // A polling worker with a pause runs at most one round per pause.
        let most: Int? =
            switch mode {
            case .polling: idlePauseNanoseconds > 0 ? 2 * 300_000_000 / idlePauseNanoseconds : nil
            case .interrupt: 8 * 2
            case .adaptive(let idle): 8 * (idle + 2)
            }
        if let most {
            let before = rounds.load(ordering: .relaxed)
            usleep(300_000)
            #expect(rounds.load(ordering: .relaxed) - before <= most)
        }
    }

    @Test func stopEndsTheThreadAndCanBeCalledTwice() {
        let ran = Atomic<Int>(0)
        let worker = MemifWorker.start(name: "idle", receiveMode: .interrupt, makeState: { 0 }) { n in
            n += 1
            ran.store(n, ordering: .relaxed)
            return 0
        }
        usleep(120_000)
        worker.stop()
        worker.stop()
        let after = ran.load(ordering: .relaxed)
        usleep(100_000)
        #expect(ran.load(ordering: .relaxed) == after, "no round after stop")
        #expect(after >= 2 && after < 20, "an interrupt worker with nothing to wake it sleeps in 50 ms steps")
    }

    @Test func pinningToAnExistingCPUWorks() {
        let worker = MemifWorker.start(name: "pinned", cpu: 0, receiveMode: .interrupt, makeState: { () }) { _ in 0 }
        usleep(50_000)
        #expect(worker.isPinned)
        worker.stop()
    }
}
