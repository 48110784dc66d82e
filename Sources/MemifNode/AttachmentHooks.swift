import Memif
import MemifSteering

/// What memifd tells the steering layer about each attachment's life. memifd calls these
/// serially for one attachment; `clientConnected`/`clientDisconnected` run on the memif event
/// loop thread and must not block. Hooks must not call back into `NodeService` (it may be
/// waiting on the event loop while holding its lock). Without hooks memifd grants memifs and
/// steers nothing.
public protocol AttachmentHooks: Sendable {
    /// A memif was granted (ADD) or re-granted after a restart: install steering for it.
    /// Throwing fails the ADD (the grant is undone) or drops the restored attachment.
    func granted(_ attachment: GrantedAttachment) throws
    /// The pod's memif client connected.
    func clientConnected(_ attachment: GrantedAttachment, connection: MemifConnection)
    /// The pod's memif client went away (the fallback policy applies from now on).
    func clientDisconnected(_ attachment: GrantedAttachment, reason: String)
    /// The attachment is gone (DEL, GC, or a failed ADD after `granted`): remove its steering.
    func removed(_ attachment: GrantedAttachment)
    /// After a restart, once every attachment in the state file was re-granted: remove
    /// leftovers of any attachment not in `keeping` (e.g. rules from a crashed run).
    func restored(keeping: [GrantedAttachment])
    /// Extra per-attachment counters for `/metrics` (steering hits, fallback drops).
    func metrics(for attachment: GrantedAttachment) -> [AttachmentMetric]
}

extension AttachmentHooks {
    public func restored(keeping: [GrantedAttachment]) {}
    public func metrics(for attachment: GrantedAttachment) -> [AttachmentMetric] { [] }
}

/// One granted memif, as hooks see it.
public struct GrantedAttachment: Sendable {
    public enum Reason: Sendable, Hashable {
        /// A CNI ADD.
        case added
        /// Recreated from the state file after memifd restarted.
        case restored
    }

    public let record: AttachmentRecord
    /// The pod's parsed annotations: ports to steer and the memif spec (mode, fallback, ...).
    public let steering: SteeringConfiguration
    /// memifd's server end of the pod's memif, listening in the pod's network namespace.
    public let interface: MemifInterface
    public let reason: Reason
}

/// One counter a hook exports; becomes `memifd_attachment_<name>` with the attachment's labels.
public struct AttachmentMetric: Sendable, Hashable {
    public enum Kind: String, Sendable { case counter, gauge }
    public var name: String
    public var help: String
    public var kind: Kind
    public var value: UInt64

    public init(name: String, help: String, kind: Kind = .counter, value: UInt64) {
        self.name = name
        self.help = help
        self.kind = kind
        self.value = value
    }
}
