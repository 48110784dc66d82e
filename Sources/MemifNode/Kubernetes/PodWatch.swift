import Foundation
import Synchronization

/// A node-local list-and-watch of pods (`fieldSelector=spec.nodeName=NODE`) feeding a
/// ``PodCache``, on a thread of its own: list, then watch from the list's resourceVersion
/// (bookmarks on), re-watch from the last version seen when the server ends the stream, and
/// relist on `410 Gone` (an ERROR event, or the status) or any other failure, after a pause.
public final class PodWatch: Sendable {
    public let client: KubernetesAPIClient
    public let nodeName: String
    public let cache: PodCache
    public let retryDelay: Duration
    /// Seconds the server is asked to keep one watch open.
    public let watchTimeoutSeconds: Int

    private let cancel = CancelFlag()
    private let stopped = Atomic<Bool>(false)
    private let lists = Atomic<Int>(0)
    private let events = Atomic<Int>(0)
    private let lastError = Mutex<String?>(nil)
    private let done = DispatchSemaphore(value: 0)
    private let started = Atomic<Bool>(false)

    public init(
        client: KubernetesAPIClient, nodeName: String, cache: PodCache = PodCache(), retryDelay: Duration = .seconds(1),
        watchTimeoutSeconds: Int = 300
    ) {
        self.client = client
        self.nodeName = nodeName
        self.cache = cache
        self.retryDelay = retryDelay
        self.watchTimeoutSeconds = watchTimeoutSeconds
    }

    /// Full lists done so far (1 after the first; more after each 410 or failure).
    public var listCount: Int { lists.load(ordering: .relaxed) }
    /// Watch events applied so far.
    public var eventCount: Int { events.load(ordering: .relaxed) }
    /// The last failure, for logs.
    public var lastFailure: String? { lastError.withLock { $0 } }

    public func start() {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        Thread.detachNewThread { [self] in
            run()
            done.signal()
        }
    }

    /// Ends the watch and waits for the thread.
    public func stop() {
        guard started.load(ordering: .relaxed), !stopped.exchange(true, ordering: .relaxed) else { return }
        cancel.set()
        done.wait()
    }

    private var selector: String {
        "fieldSelector=" + ("spec.nodeName=" + nodeName).addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._")))!
    }

    private func run() {
        while !stopped.load(ordering: .relaxed) {
            do throws(PodLookupError) {
                var version = try list()
                while !stopped.load(ordering: .relaxed) {
                    guard let next = try watch(from: version) else { break }  // nil: relist
                    version = next
                }
            } catch {
                lastError.withLock { $0 = error.description }
            }
            pause()
        }
    }

    private func pause() {
        let end = ContinuousClock.now + retryDelay
        while !stopped.load(ordering: .relaxed) && ContinuousClock.now < end { usleep(10_000) }
    }

    /// Lists the node's pods into the cache; returns the list's resourceVersion.
    private func list() throws(PodLookupError) -> String {
        let (status, body) = try client.get("/api/v1/pods?\(selector)")
        switch status {
        case 200: break
        case 401: throw .unauthorized(KubernetesJSON.message(body))
        case 403: throw .forbidden(KubernetesJSON.message(body))
        default: throw .http(status: status, message: KubernetesJSON.message(body))
        }
        let list = try KubernetesJSON.decode(KubernetesJSON.PodList.self, body)
        var pods: [PodRecord] = []
        for item in list.items { pods.append(try KubernetesJSON.pod(item)) }
        cache.replaceAll(pods)
        lists.add(1, ordering: .relaxed)
        return list.metadata?.resourceVersion ?? ""
    }

    /// Watches from `version`; returns the version to continue from, or nil to relist.
    private func watch(from version: String) throws(PodLookupError) -> String? {
        var current = version
        var relist = false
        var failure: PodLookupError?
        let path = "/api/v1/pods?\(selector)&watch=true&allowWatchBookmarks=true&resourceVersion=\(version)"
            + "&timeoutSeconds=\(watchTimeoutSeconds)"
        let (status, body) = try client.stream(path, cancel: cancel) { [self] line in
            guard let event = try? KubernetesJSON.decoder.decode(KubernetesJSON.Event.self, from: line) else {
                failure = .malformed("watch line: \(String(decoding: line.prefix(200), as: UTF8.self))")
                return false
            }
            switch event.type {
            case "ADDED", "MODIFIED", "DELETED":
                guard let pod = try? KubernetesJSON.pod(event.object) else {
                    failure = .malformed("watch \(event.type) without a pod")
                    return false
                }
                if event.type == "DELETED" { cache.remove(pod) } else { cache.put(pod) }
                current = pod.resourceVersion
            case "BOOKMARK":
                if let v = event.object.metadata?.resourceVersion { current = v }
            case "ERROR":
                // 410 Gone: the version is too old for the server's history. Anything else: start over too.
                relist = true
                if event.object.code != 410 {
                    failure = .http(status: event.object.code ?? 0, message: event.object.message ?? "watch error")
                }
                return false
            default:
                failure = .malformed("watch event type \(event.type)")
                return false
            }
            events.add(1, ordering: .relaxed)
            return true
        }
        if let failure { throw failure }
        if relist || status == 410 { return nil }
        guard status == 200 else {
            if status == 401 { throw .unauthorized(KubernetesJSON.message(body)) }
            if status == 403 { throw .forbidden(KubernetesJSON.message(body)) }
            throw .http(status: status, message: KubernetesJSON.message(body))
        }
        return current
    }
}
