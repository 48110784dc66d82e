import CMemifLinux
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The control-plane thread: one epoll set for listeners, control channels and timers.
/// Handshakes, disconnects and reconnects all run here, never on data-path threads.
///
/// Thread rule: `register`, `unregister`, `schedule` and `cancel` are called on the loop
/// thread only (from handlers or from ``execute(_:)``); ``execute(_:)`` and
/// ``shutdown()`` from anywhere.
public final class MemifEventLoop: @unchecked Sendable {
    typealias Handler = (_ events: UInt32) -> Void

    private let epollFD: Int32
    private let wakeFD: Int32
    private var thread: pthread_t?
    /// Work handed in from other threads, run on the loop thread.
    private let inbox = Mutex<[@Sendable () -> Void]>([])
    private let stopping = Atomic<Bool>(false)
    /// Set when the loop thread has returned; from then on callers run queued work themselves.
    private let terminated = Atomic<Bool>(false)
    private let loopThreadID = Atomic<UInt>(0)
    // Loop-thread-only state:
    private var handlers: [Int32: Handler] = [:]
    private var timers: [(id: UInt64, deadline: UInt64, work: () -> Void)] = []
    private var nextTimerID: UInt64 = 1
    /// Server listeners shared by every server interface on the same socket (name and
    /// namespace: one abstract name can be served in many pods' namespaces).
    var listeners: [ListenerAddress: ServerListener] = [:]

    /// Starts the loop's thread.
    public init() throws(MemifError) {
        epollFD = cmemif_epoll_create()
        guard epollFD >= 0 else { throw MemifError.system("epoll_create1") }
        wakeFD = cmemif_eventfd(0, 1)
        guard wakeFD >= 0 else {
            close(epollFD)
            throw MemifError.system("eventfd")
        }
        cmemif_epoll_add(epollFD, wakeFD)
        let box = Unmanaged.passRetained(self)
        var t = pthread_t()
        let rc = pthread_create(&t, nil, { arg in
            let loop = Unmanaged<MemifEventLoop>.fromOpaque(arg!).takeRetainedValue()
            loop.run()
            return nil
        }, box.toOpaque())
        guard rc == 0 else {
            box.release()
            close(wakeFD)
            close(epollFD)
            throw MemifError.system("pthread_create", errno: rc)
        }
        thread = t
    }

    deinit {
        close(wakeFD)
        close(epollFD)
    }

    /// Stops the thread after running what was already queued; listeners and channels are
    /// closed. Idempotent.
    public func shutdown() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        cmemif_eventfd_signal(wakeFD)
        if let thread, !isLoopThread { pthread_join(thread, nil) }
    }

    var isLoopThread: Bool { loopThreadID.load(ordering: .relaxed) == UInt(pthread_self()) }

    /// Runs `work` on the loop thread, soon.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        inbox.withLock { $0.append(work) }
        cmemif_eventfd_signal(wakeFD)
    }

    /// Runs `work` on the loop thread and waits for its result (runs inline when already there).
    func sync<T: Sendable>(_ work: @escaping @Sendable () -> T) -> T {
        if isLoopThread { return work() }
        let result = Mutex<T?>(nil)
        let done = cmemif_eventfd(0, 0)
        defer { close(done) }
        execute {
            result.withLock { $0 = work() }
            cmemif_eventfd_signal(done)
        }
        while cmemif_eventfd_wait(done, 100) <= 0 {
            // After shutdown no thread serves the inbox: run it here (the loop thread is gone).
            if terminated.load(ordering: .acquiring) { runInbox() }
        }
        return result.withLock { $0! }
    }

    func register(_ fd: Int32, _ handler: @escaping Handler) {
        handlers[fd] = handler
        cmemif_epoll_add(epollFD, fd)
    }

    func unregister(_ fd: Int32) {
        guard handlers.removeValue(forKey: fd) != nil else { return }
        cmemif_epoll_del(epollFD, fd)
    }

    @discardableResult
    func schedule(after delay: Duration, _ work: @escaping () -> Void) -> UInt64 {
        let id = nextTimerID
        nextTimerID += 1
        let nanos = UInt64(delay.components.seconds) * 1_000_000_000 + UInt64(delay.components.attoseconds / 1_000_000_000)
        timers.append((id, MonotonicClock.nanoseconds() + nanos, work))
        return id
    }

    func cancel(_ timer: UInt64) { timers.removeAll { $0.id == timer } }

    private func run() {
        loopThreadID.store(UInt(pthread_self()), ordering: .relaxed)
        var fds = [Int32](repeating: 0, count: 64)
        var events = [UInt32](repeating: 0, count: 64)
        while !stopping.load(ordering: .acquiring) {
            let timeout = nextTimeout()
            let n = cmemif_epoll_wait(epollFD, &fds, &events, 64, timeout)
            if n < 0 && errno != EINTR { break }
            for i in 0..<max(0, Int(n)) {
                let fd = fds[i]
                if fd == wakeFD {
                    var value: UInt64 = 0
                    _ = read(wakeFD, &value, 8)
                    continue
                }
                handlers[fd]?(events[i])
            }
            runInbox()
            runDueTimers()
        }
        runInbox()
        for listener in listeners.values { listener.close() }
        listeners = [:]
        let remaining = handlers
        for (fd, handler) in remaining {
            handler(UInt32(CMEMIF_EPOLLHUP))
            unregister(fd)
        }
        timers = []
        terminated.store(true, ordering: .releasing)
    }

    private func runInbox() {
        let work = inbox.withLock { queued in
            defer { queued = [] }
            return queued
        }
        for w in work { w() }
    }

    private func runDueTimers() {
        let now = MonotonicClock.nanoseconds()
        let due = timers.filter { $0.deadline <= now }
        guard !due.isEmpty else { return }
        timers.removeAll { $0.deadline <= now }
        for t in due { t.work() }
    }

    private func nextTimeout() -> Int32 {
        guard let next = timers.map(\.deadline).min() else { return -1 }
        let now = MonotonicClock.nanoseconds()
        guard next > now else { return 0 }
        return Int32(min((next - now + 999_999) / 1_000_000, 60_000))
    }
}
