import Logging
import Memif
import MemifCNI
import MemifSteering
import Synchronization
import CMemifLinux

#if canImport(Glibc)
import Glibc
#endif

/// memifd's logic: grants, removes and restores attachments, answers memif-cni and memifctl,
/// and keeps the state file in step. One request is served at a time (the state file is
/// rewritten by each change); CNI requests are rare and short.
public final class NodeService: Sendable {
    public let configuration: NodeConfiguration
    private let loop: MemifEventLoop
    private let store: StateStore
    private let hooks: (any AttachmentHooks)?
    private let annotationSource: (any PodAnnotationSource)?
    private let logger: Logger
    private let state = Mutex(State())
    let counters = Mutex([String: UInt64]())

    private struct State {
        var attachments: [AttachmentKey: LiveAttachment] = [:]
        /// The file lags memory (a save failed): the next request retries the save.
        var dirty = false
    }

    public init(
        configuration: NodeConfiguration, eventLoop: MemifEventLoop, hooks: (any AttachmentHooks)? = nil,
        annotationSource: (any PodAnnotationSource)? = nil, logger: Logger
    ) {
        self.configuration = configuration
        self.loop = eventLoop
        self.store = StateStore(path: configuration.stateFile)
        self.hooks = hooks
        self.annotationSource = annotationSource
        self.logger = logger
    }

    // MARK: Restart

    /// Recreates every listener in the state file. An attachment whose pod namespace is gone
    /// (the pod was deleted while memifd was down) is dropped; an unreadable file is moved
    /// aside and memifd starts empty.
    public func restore() {
        let records: [AttachmentRecord]
        do throws(StateStore.Failure) {
            records = try store.load()
        } catch {
            let aside = store.quarantine()
            logger.error("state file unreadable, starting empty", metadata: ["error": "\(error)", "movedTo": "\(aside ?? "-")"])
            records = []
        }
        state.withLock { s in
            for record in records {
                do throws(CNIError) {
                    let steering = try parse(record.annotations) ?? SteeringConfiguration(
                        rules: PortRuleSet([]), spec: MemifSpec(), portsKey: "", specKey: nil)
                    let live = try grant(record, steering: steering, reason: .restored)
                    s.attachments[record.key] = live
                    logger.info("restored", metadata: metadata(record))
                } catch {
                    logger.warning("dropped on restore", metadata: metadata(record, ["error": "\(error.msg)"]))
                }
            }
            // Rewritten whole: drops what could not be restored, and recreates a file moved aside.
            s.dirty = true
            try? persist(&s)
            hooks?.restored(keeping: s.attachments.values.map(\.granted))
        }
    }

    /// Stops every listener (the state file keeps them for the next start).
    public func shutdown() {
        state.withLock { s in
            for live in s.attachments.values { live.granted.interface.stop() }
        }
    }

    // MARK: Requests

    public func handle(_ request: NodeRequest) -> NodeReply {
        let reply: NodeReply
        do throws(CNIError) {
            reply = try state.withLock { s throws(CNIError) -> NodeReply in
                switch request.operation {
                case .add: return .done(try add(request, &s))
                case .del: return .done(try delete(request, &s))
                case .check: return .done(try check(request, &s))
                case .gc: return .done(try collect(request, &s))
                case .status: return .status(s.attachments.values.map(\.status).sorted { $0.key < $1.key })
                }
            }
        } catch {
            reply = .failed(error)
        }
        let outcome: String
        if case .failed(let error) = reply {
            outcome = "error"
            logger.warning(
                "request refused",
                metadata: ["op": "\(request.operation.rawValue)", "attachment": "\(request.key?.description ?? "-")", "code": "\(error.code)", "error": "\(error.msg)"])
        } else {
            outcome = "ok"
        }
        counters.withLock { $0["\(request.operation.rawValue)|\(outcome)", default: 0] += 1 }
        return reply
    }

    /// Every attachment held now.
    public func attachments() -> [AttachmentStatus] {
        state.withLock { s in s.attachments.values.map(\.status).sorted { $0.key < $1.key } }
    }

    /// memifd's server end of an attachment's memif (what the steering pump drives).
    public func attachmentInterface(_ key: AttachmentKey) -> MemifInterface? {
        state.withLock { $0.attachments[key]?.granted.interface }
    }

    /// Attachments with the counters hooks add, for `/metrics`.
    func metricSnapshot() -> [(AttachmentStatus, [AttachmentMetric])] {
        state.withLock { s in
            s.attachments.values.map { ($0.status, hooks?.metrics(for: $0.granted) ?? []) }.sorted { $0.0.key < $1.0.key }
        }
    }

    private func add(_ request: NodeRequest, _ s: inout State) throws(CNIError) -> AttachmentStatus? {
        guard let key = request.key, let netns = request.netns else { throw CNIError(.decodingFailure, "add needs a key and netns") }
        guard s.attachments[key] == nil else {
            throw CNIError(.attachmentExists, "container \(key.containerID) already has a memif attachment on \(key.ifname)")
        }
        let annotations = try annotations(for: request)
        guard let steering = try parse(annotations) else { return nil }
        let record = AttachmentRecord(
            key: key, netns: netns, podNamespace: request.podNamespace, podName: request.podName, podUID: request.podUID,
            network: request.network, socket: try socketName(annotations, ifname: key.ifname), annotations: annotations,
            podIPs: request.podIPs)
        let live = try grant(record, steering: steering, reason: .added)
        s.attachments[key] = live
        s.dirty = true
        do throws(CNIError) {
            try persist(&s)
        } catch {
            s.attachments[key] = nil
            release(live)
            s.dirty = true
            throw error
        }
        logger.info("granted", metadata: metadata(record, ["ports": "\(steering.rules)", "mode": "\(steering.spec.mode.rawValue)"]))
        for note in steering.notes { logger.notice("annotation note", metadata: metadata(record, ["note": "\(note)"])) }
        return live.status
    }

    private func delete(_ request: NodeRequest, _ s: inout State) throws(CNIError) -> AttachmentStatus? {
        guard let key = request.key else { throw CNIError(.decodingFailure, "del needs a key") }
        if let live = s.attachments.removeValue(forKey: key) {
            release(live)
            s.dirty = true
            logger.info("removed", metadata: metadata(live.record))
        }
        try persist(&s)
        return nil
    }

    private func check(_ request: NodeRequest, _ s: inout State) throws(CNIError) -> AttachmentStatus? {
        guard let key = request.key, let netns = request.netns else { throw CNIError(.decodingFailure, "check needs a key and netns") }
        if let live = s.attachments[key] {
            guard live.record.netns == netns else {
                throw CNIError(.attachmentMismatch, "memif of \(key) was granted in \(live.record.netns), not \(netns)")
            }
            let fd = cmemif_netns_open(netns)
            guard fd >= 0 else {
                throw CNIError(.attachmentMismatch, "network namespace \(netns) of \(key) is gone: \(String(cString: strerror(errno)))")
            }
            close(fd)
            return live.status
        }
        // Nothing held: fine unless the pod asks for a memif.
        let wanted: [String: String]
        if let given = request.annotations {
            wanted = given
        } else if annotationSource != nil {
            wanted = try annotations(for: request)
        } else {
            return nil
        }
        if try parse(wanted) != nil {
            throw CNIError(.attachmentMismatch, "the pod asks for a memif on \(key.ifname) but memifd holds none for \(key)")
        }
        return nil
    }

    private func collect(_ request: NodeRequest, _ s: inout State) throws(CNIError) -> AttachmentStatus? {
        let valid = Set(request.validAttachments ?? [])
        for (key, live) in s.attachments where live.record.network == request.network && !valid.contains(key) {
            s.attachments[key] = nil
            release(live)
            s.dirty = true
            logger.info("garbage-collected", metadata: metadata(live.record))
        }
        try persist(&s)
        return nil
    }

    // MARK: Pieces

    /// The runtime's annotations, or the pod's looked up.
    private func annotations(for request: NodeRequest) throws(CNIError) -> [String: String] {
        if let given = request.annotations { return given }
        guard let source = annotationSource else {
            throw CNIError(
                .tryAgainLater,
                "the runtime passed no pod annotations (capability \(NetworkConfiguration.podAnnotationsCapability)) and memifd has no pod lookup configured")
        }
        guard let namespace = request.podNamespace, let name = request.podName else {
            throw CNIError(
                .invalidEnvironment, "no pod annotations in runtimeConfig and no K8S_POD_NAMESPACE/K8S_POD_NAME in CNI_ARGS to look the pod up")
        }
        do {
            return try source.annotations(namespace: namespace, name: name, uid: request.podUID)
        } catch {
            throw CNIError(.tryAgainLater, "looking up pod \(namespace)/\(name) failed: \(error)")
        }
    }

    private func parse(_ annotations: [String: String]) throws(CNIError) -> SteeringConfiguration? {
        do throws(SteeringAnnotationError) {
            return try SteeringConfiguration(annotations: annotations, limits: configuration.limits)
        } catch {
            throw CNIError(.invalidConfiguration, error.description)
        }
    }

    private func socketName(_ annotations: [String: String], ifname: String) throws(CNIError) -> String {
        guard let asked = annotations[SocketAnnotation.key] else { return configuration.defaultSocket(ifname: ifname) }
        let name: MemifSocketName
        do throws(MemifError) {
            name = try MemifSocketName(asked)
        } catch {
            throw CNIError(.invalidConfiguration, "annotation \(SocketAnnotation.key): \(error.message)")
        }
        guard name.kind == .abstract else {
            throw CNIError(
                .invalidConfiguration,
                "annotation \(SocketAnnotation.key): \"\(asked.prefix(80))\" is a file path; only abstract names (@name) live in the pod's network namespace")
        }
        return name.description
    }

    /// Binds the memif server in the pod's namespace and runs the hooks' `granted`.
    private func grant(_ record: AttachmentRecord, steering: SteeringConfiguration, reason: GrantedAttachment.Reason) throws(CNIError) -> LiveAttachment {
        let interface: MemifInterface
        do throws(MemifError) {
            var c = MemifConfiguration(
                role: .server, socket: try MemifSocketName(record.socket), id: 0,
                mode: steering.spec.mode == .ip ? .ip : .ethernet, applicationName: configuration.applicationName,
                interfaceName: String("memif-\(record.key.ifname)".prefix(31)))
            c.clientToServerQueues = steering.spec.clientToServerQueues
            c.serverToClientQueues = steering.spec.serverToClientQueues
            c.log2RingSize = steering.spec.log2RingSize
            c.requireSealedRegions = !configuration.allowUnsealedRegions
            c.listenNamespace = record.netns
            var interfaceLogger = logger
            interfaceLogger[metadataKey: "attachment"] = "\(record.key)"
            interfaceLogger[metadataKey: "netns"] = "\(record.netns)"
            interface = try MemifInterface(c, eventLoop: loop, logger: interfaceLogger)
        } catch {
            throw CNIError(.grantFailed, "cannot serve memif \(record.socket) for \(record.key): \(error.message)")
        }
        let granted = GrantedAttachment(record: record, steering: steering, interface: interface, reason: reason)
        let live = LiveAttachment(granted)
        let hooks = self.hooks
        // Handlers and steering are in place before the listener exists: a client that was
        // waiting (a restart) may connect the moment it is bound, and must find both.
        interface.onConnected { [weak live] connection in
            guard let live else { return }
            live.connected(connection)
            hooks?.clientConnected(live.granted, connection: connection)
        }
        interface.onDisconnected { [weak live] reason in
            guard let live else { return }
            live.disconnected()
            hooks?.clientDisconnected(live.granted, reason: reason)
        }
        if let hooks {
            do {
                try hooks.granted(granted)
            } catch {
                throw CNIError(.grantFailed, "steering for \(record.key) failed: \(error)")
            }
        }
        do throws(MemifError) {
            try interface.start()
        } catch {
            hooks?.removed(granted)
            throw CNIError(.grantFailed, "cannot serve memif \(record.socket) for \(record.key): \(error.message)")
        }
        return live
    }

    private func release(_ live: LiveAttachment) {
        live.granted.interface.stop()
        hooks?.removed(live.granted)
    }

    /// Writes the state file when memory changed; a failed write is CNI error 5 (and the file
    /// stays dirty, so the next request tries again).
    private func persist(_ s: inout State) throws(CNIError) {
        guard s.dirty else { return }
        do throws(StateStore.Failure) {
            try store.save(s.attachments.values.map(\.record))
            s.dirty = false
        } catch {
            logger.error("state file not written", metadata: ["error": "\(error)"])
            throw CNIError(.ioFailure, "memifd could not record the change: \(error)")
        }
    }

    private func metadata(_ record: AttachmentRecord, _ extra: Logger.Metadata = [:]) -> Logger.Metadata {
        var m: Logger.Metadata = [
            "attachment": "\(record.key)", "netns": "\(record.netns)", "socket": "\(record.socket)",
        ]
        if let ns = record.podNamespace, let name = record.podName { m["pod"] = "\(ns)/\(name)" }
        return m.merging(extra) { $1 }
    }
}
