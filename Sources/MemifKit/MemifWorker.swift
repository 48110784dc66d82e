import CMemifLinux
import Foundation
import Synchronization

/// A data-path thread: calls `body` in a loop until stopped, optionally pinned to a CPU.
/// When `body` reports no work, it spins (polling), sleeps on the eventfds of the queues in
/// `wakeOn` (interrupt), or spins for a while and then sleeps (adaptive). Each spin after an
/// empty round lasts `idlePause` (``MemifIdlePause``).
///
/// The per-thread state is built on the thread by `makeState`, so bursts and queue handles
/// live on the worker's own stack: nothing is shared, boxed or locked per burst.
public final class MemifWorker: Sendable {
    public let name: String
    private let stopping = Atomic<Bool>(false)
    private let finished = Mutex<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    /// 0 until the thread pinned itself; -1 when pinning failed.
    private let pinResult = Atomic<Int>(0)

    /// - Parameters:
    ///   - cpu: pin the thread to this CPU, or nil to let the scheduler choose.
    ///   - wakeOn: the channel queues whose receive eventfds wake an idle worker.
    ///   - idlePause: how long to spin after an empty round before the next (none: one `pause`).
    ///   - body: one round of work; returns how many packets it handled (0: idle).
    public static func start<State: ~Copyable>(
        name: String, cpu: Int? = nil, receiveMode: MemifReceiveMode = .polling, wakeOn: [MemifChannelQueue] = [],
        idlePause: MemifIdlePause = .none, makeState: @escaping @Sendable () -> State, body: @escaping @Sendable (inout State) -> Int
    ) -> MemifWorker {
        let worker = MemifWorker(name: name)
        let thread = Thread { [worker] in
            if let cpu { worker.pinResult.store(cmemif_pin_current_thread(Int32(cpu)) == 0 ? 1 : -1, ordering: .relaxed) }
            var state = makeState()
            var idle = IdlePolicy(mode: receiveMode, wakeOn: wakeOn)
            while !worker.stopping.load(ordering: .relaxed) {
                if body(&state) > 0 {
                    idle.busy()
                } else if idle.shouldSleep() {
                    idle.sleep { body(&state) }
                } else {
                    idlePause.wait()
                }
            }
            worker.done.signal()
        }
        thread.name = name
        thread.start()
        return worker
    }

    private init(name: String) { self.name = name }

    /// True when the worker runs pinned as asked; false when pinning failed or was not asked.
    public var isPinned: Bool { pinResult.load(ordering: .relaxed) == 1 }

    /// Stops the loop after the current round and waits for the thread to end.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        let first = finished.withLock { f in
            defer { f = true }
            return !f
        }
        if first { done.wait() }
    }
}

/// When an idle worker sleeps, and how. Runs only when `body` found nothing to do.
struct IdlePolicy {
    let mode: MemifReceiveMode
    let wakeOn: [MemifChannelQueue]
    var emptyPolls = 0
    /// Bounds each sleep so the worker notices `stop()` and reconnects.
    static let sleepMilliseconds: Int32 = 50

    init(mode: MemifReceiveMode, wakeOn: [MemifChannelQueue]) {
        self.mode = mode
        self.wakeOn = wakeOn
    }

    mutating func busy() { emptyPolls = 0 }

    mutating func shouldSleep() -> Bool {
        switch mode {
        case .polling: return false
        case .interrupt: return true
        case .adaptive(let limit):
            emptyPolls += 1
            return emptyPolls >= limit
        }
    }

    /// Asks the peers to signal, polls once more (a packet may have landed before they
    /// could), then waits on the eventfds; adaptive mode goes back to polling afterwards.
    mutating func sleep(recheck: () -> Int) {
        // The current connection of each channel queue (a disconnected one has nothing to wait on).
        let queues = wakeOn.compactMap { q -> MemifRxQueue? in
            guard let c = q.channel.connection, q.index < c.receiveQueueCount else { return nil }
            return c.receiveQueue(q.index)
        }
        queues.forEach { $0.setInterruptMode(true) }
        defer {
            if mode != .interrupt { queues.forEach { $0.setInterruptMode(false) } }
            emptyPolls = 0
        }
        guard recheck() == 0 else { return }
        guard !queues.isEmpty else {
            usleep(UInt32(Self.sleepMilliseconds) * 1000)
            return
        }
        var fds = queues.map { pollfd(fd: $0.eventFileDescriptor, events: Int16(POLLIN), revents: 0) }
        guard poll(&fds, nfds_t(fds.count), Self.sleepMilliseconds) > 0 else { return }
        for (i, p) in fds.enumerated() where p.revents & Int16(POLLIN) != 0 {
            _ = queues[i].waitForSignal(timeoutMilliseconds: 0)
        }
    }
}
