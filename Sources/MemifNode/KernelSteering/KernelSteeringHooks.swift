import Dispatch
import Logging
import Memif
import MemifCNI
import MemifPacket
import MemifSteering
import Synchronization

/// memifd's kernel-mode steering: one ``KernelSteeringPath`` per attachment that has pod
/// addresses and ports to steer. Paths are installed when the memif is granted, attached to the
/// pod's memif connection while the client is connected, and removed with the attachment.
///
/// Connect and disconnect arrive on the memif event loop, which must not block; with the
/// `kernel` fallback they change `ip rule`s (a few ms), so they run on a serial queue of ours.
public final class KernelSteeringHooks: AttachmentHooks, Sendable {
    private let namespacePath: String?
    private let options: KernelSteeringOptions
    private let logger: Logger
    private let work = DispatchQueue(label: "memifd.steering")
    private let paths = Mutex<[AttachmentKey: KernelSteeringPath]>([:])

    /// - Parameter namespacePath: where rules, routes and tuns go; nil: memifd's own namespace.
    public init(namespacePath: String? = nil, options: KernelSteeringOptions = KernelSteeringOptions(), logger: Logger) {
        self.namespacePath = namespacePath
        self.options = options
        self.logger = logger
    }

    public func granted(_ attachment: GrantedAttachment) throws {
        let v4 = attachment.record.podIPs.compactMap(IPv4Address.init)
        let v6 = attachment.record.podIPs.compactMap(IPv6Address.init)
        guard !(v4.isEmpty && v6.isEmpty) else {
            logger.warning(
                "no pod address to steer to (memif-cni ran before the plugin that assigns it?): memif granted, nothing steered",
                metadata: ["attachment": "\(attachment.record.key)"])
            return
        }
        let id = paths.withLock { p in Self.freeID(for: attachment.record.key, taken: Set(p.values.map(\.configuration.id))) }
        let spec = attachment.steering.spec
        let path = try KernelSteeringPath(
            KernelSteeringPath.Configuration(
                id: id, podIPv4: v4, podIPv6: v6, ports: attachment.steering.rules, mode: spec.mode,
                fallback: spec.fallback, namespacePath: namespacePath, options: options))
        try path.install()
        paths.withLock { $0[attachment.record.key] = path }
        logger.info(
            "steering installed",
            metadata: [
                "attachment": "\(attachment.record.key)", "tun": "\(path.names.tunName)", "ports": "\(attachment.steering.rules)",
                "fallback": "\(spec.fallback)",
            ])
    }

    public func clientConnected(_ attachment: GrantedAttachment, connection: MemifConnection) {
        guard let path = paths.withLock({ $0[attachment.record.key] }) else { return }
        work.async { [logger] in
            do throws(KernelSteeringError) { try path.attach(connection) } catch {
                logger.error("steering attach failed", metadata: ["attachment": "\(attachment.record.key)", "error": "\(error)"])
            }
        }
    }

    public func clientDisconnected(_ attachment: GrantedAttachment, reason: String) {
        guard let path = paths.withLock({ $0[attachment.record.key] }) else { return }
        work.async { [logger] in
            do throws(KernelSteeringError) { try path.detach() } catch {
                logger.error("steering detach failed", metadata: ["attachment": "\(attachment.record.key)", "error": "\(error)"])
            }
        }
    }

    public func removed(_ attachment: GrantedAttachment) {
        guard let path = paths.withLock({ $0.removeValue(forKey: attachment.record.key) }) else { return }
        // After any queued attach/detach of this path, and before returning: DEL leaves nothing.
        work.sync {
            do throws(KernelSteeringError) { try path.remove() } catch {
                logger.error("steering removal failed", metadata: ["attachment": "\(attachment.record.key)", "error": "\(error)"])
            }
        }
    }

    public func restored(keeping: [GrantedAttachment]) {
        let kept = paths.withLock { p in Set(keeping.compactMap { p[$0.record.key]?.configuration.id }) }
        do throws(KernelSteeringError) {
            let removed = try KernelSteeringPath.removeStale(keeping: kept, namespacePath: namespacePath, options: options)
            if !removed.isEmpty { logger.info("removed steering left by an earlier run", metadata: ["ids": "\(removed.sorted())"]) }
        } catch {
            logger.error("could not remove stale steering", metadata: ["error": "\(error)"])
        }
    }

    public func metrics(for attachment: GrantedAttachment) -> [AttachmentMetric] {
        guard let s = paths.withLock({ $0[attachment.record.key]?.statistics }) else { return [] }
        return [
            AttachmentMetric(name: "steering_hits_total", help: "Packets the kernel steered to the attachment's tun.", value: s.steeringHits),
            AttachmentMetric(name: "steered_to_memif_packets_total", help: "Steered packets written into the pod's memif.", value: s.toMemifPackets),
            AttachmentMetric(name: "steered_to_memif_bytes_total", help: "Bytes of them.", value: s.toMemifBytes),
            AttachmentMetric(name: "steered_from_memif_packets_total", help: "Packets from the pod's memif handed to the kernel.", value: s.fromMemifPackets),
            AttachmentMetric(name: "steered_from_memif_bytes_total", help: "Bytes of them.", value: s.fromMemifBytes),
            AttachmentMetric(name: "steering_drops_total", help: "Steered packets dropped (client down with fallback drop, memif full, not IP...).", value: s.drops),
        ]
    }

    /// A stable id for an attachment: a hash of its key, probed past ids in use, so a restart
    /// that restores the same attachments in the same order gets the same names.
    static func freeID(for key: AttachmentKey, taken: Set<UInt16>) -> UInt16 {
        var h: UInt32 = 2_166_136_261
        for b in (key.containerID + "/" + key.ifname).utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        var id = UInt16(truncatingIfNeeded: h % 60_000) &+ 1
        while taken.contains(id) { id = id % 60_000 &+ 1 }
        return id
    }
}
