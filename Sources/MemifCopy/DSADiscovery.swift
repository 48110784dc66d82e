import CAccelConfig

#if canImport(Glibc)
import Glibc
#endif

/// One DSA work queue as discovery sees it: what the engine needs to size itself and
/// what selection needs to choose (reference 2.2).
public struct DSAWorkQueueInfo: Sendable, Equatable {
    public var device: String
    public var name: String
    /// `/dev/dsa/wqX.Y`, or nil when the user node is missing.
    public var devicePath: String?
    public var numaNode: Int
    /// 0x100 (DSA 1.0) or 0x200 (DSA 2.0).
    public var version: UInt32
    public var enabled: Bool
    /// A user-type queue (the only kind user space can open).
    public var isUser: Bool
    public var dedicated: Bool
    public var size: Int
    public var threshold: Int
    public var maxBatchSize: Int
    public var maxTransferSize: Int
    public var blockOnFault: Bool
    public var genCap: UInt64
    /// `op_cap` as read from sysfs by ``DSAOperationCapabilities``.
    public var operations: DSAOperationCapabilities

    public init(
        device: String, name: String, devicePath: String?, numaNode: Int, version: UInt32, enabled: Bool, isUser: Bool,
        dedicated: Bool, size: Int, threshold: Int, maxBatchSize: Int, maxTransferSize: Int, blockOnFault: Bool,
        genCap: UInt64, operations: DSAOperationCapabilities
    ) {
        self.device = device
        self.name = name
        self.devicePath = devicePath
        self.numaNode = numaNode
        self.version = version
        self.enabled = enabled
        self.isUser = isUser
        self.dedicated = dedicated
        self.size = size
        self.threshold = threshold
        self.maxBatchSize = maxBatchSize
        self.maxTransferSize = maxTransferSize
        self.blockOnFault = blockOnFault
        self.genCap = genCap
        self.operations = operations
    }

    /// `gen_cap.cache_control_mem` (bit 2): CC is valid on MEMMOVE.
    public var cacheControl: Bool { genCap & 0x4 != 0 }
}

/// The `op_cap` bitmap. Kernels print it in two formats and libaccel-config 3.5.3 reads
/// only the first (reference 2.2 gotcha 2), so it is parsed here:
/// - old: four space-separated 64-bit hex words, least significant first;
/// - new (`%*pb`): comma-separated 32-bit hex words, most significant first.
public struct DSAOperationCapabilities: Sendable, Equatable {
    public var words: [UInt64]

    public init(words: [UInt64]) { self.words = words }

    public init?(sysfs text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return nil }
        func hex(_ s: Substring) -> UInt64? {
            let digits = s.hasPrefix("0x") || s.hasPrefix("0X") ? s.dropFirst(2) : s
            return digits.isEmpty ? nil : UInt64(digits, radix: 16)
        }
        if trimmed.contains(",") {
            var bits: [UInt64] = []
            let parts = trimmed.split(separator: ",", omittingEmptySubsequences: false).reversed()
            for (i, part) in parts.enumerated() {
                guard let v = hex(part), v <= UInt64(UInt32.max) else { return nil }
                if i % 2 == 0 { bits.append(v) } else { bits[bits.count - 1] |= v << 32 }
            }
            words = bits
        } else {
            var bits: [UInt64] = []
            for part in trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                guard let v = hex(part) else { return nil }
                bits.append(v)
            }
            words = bits
        }
    }

    public func supports(_ opcode: UInt8) -> Bool {
        let word = Int(opcode) / 64
        return word < words.count && words[word] >> UInt64(opcode % 64) & 1 != 0
    }
}

private extension String {
    func trimmingCharacters(in _: WhitespaceSet) -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}

private enum WhitespaceSet { case whitespacesAndNewlines }

/// Finds DSA work queues. Real: ``AccelConfigDiscovery``; tests use a fixed list.
public protocol WorkQueueDiscovery {
    func workQueues() -> Result<[DSAWorkQueueInfo], DSADiscoveryError>
}

public enum DSADiscoveryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// libaccel-config.so.1 could not be loaded (not installed on this node).
    case libraryUnavailable(String)
    case contextFailed(Int32)

    public var description: String {
        switch self {
        case .libraryUnavailable(let why): "libaccel-config is not available: \(why)"
        case .contextFailed(let rc): "accfg_new failed (\(rc))"
        }
    }
}

/// A fixed list (the model's configuration, or a test's).
public struct StaticDiscovery: WorkQueueDiscovery {
    public let queues: [DSAWorkQueueInfo]
    public init(_ queues: [DSAWorkQueueInfo]) { self.queues = queues }
    public func workQueues() -> Result<[DSAWorkQueueInfo], DSADiscoveryError> { .success(queues) }
}

/// Discovery through libaccel-config 3.5.3, loaded with `dlopen` so that binaries start
/// on nodes without it (most nodes have no DSA). Iterates with the get_first/get_next
/// functions (the foreach macros do not import); reads `op_cap` from sysfs itself.
public struct AccelConfigDiscovery: WorkQueueDiscovery {
    public var library: String
    public var sysfsRoot: String

    public init(library: String = "libaccel-config.so.1", sysfsRoot: String = "/sys/bus/dsa/devices") {
        self.library = library
        self.sysfsRoot = sysfsRoot
    }

    public func workQueues() -> Result<[DSAWorkQueueInfo], DSADiscoveryError> {
        guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL) else {
            return .failure(.libraryUnavailable(dlerror().map { String(cString: $0) } ?? library))
        }
        defer { dlclose(handle) }
        guard let api = AccelConfigAPI(handle) else {
            return .failure(.libraryUnavailable(dlerror().map { String(cString: $0) } ?? "missing symbols"))
        }
        var ctx: OpaquePointer?
        let rc = api.new(&ctx)
        guard rc == 0, let ctx else { return .failure(.contextFailed(rc)) }
        defer { _ = api.unref(ctx) }
        var found: [DSAWorkQueueInfo] = []
        var device = api.deviceFirst(ctx)
        while let d = device {
            defer { device = api.deviceNext(d) }
            guard api.deviceType(d) == Int32(ACCFG_DEVICE_DSA.rawValue) else { continue }
            let devname = api.deviceName(d).map { String(cString: $0) } ?? "dsa?"
            let deviceEnabled = api.deviceState(d) == Int32(ACCFG_DEVICE_ENABLED.rawValue)
            let ops = readSysfs("\(sysfsRoot)/\(devname)/op_cap").flatMap(DSAOperationCapabilities.init(sysfs:))
                ?? DSAOperationCapabilities(words: [])
            var wq = api.wqFirst(d)
            while let w = wq {
                defer { wq = api.wqNext(w) }
                var path = [CChar](repeating: 0, count: 256)
                let hasPath = api.wqUserDevPath(w, &path, path.count) == 0
                found.append(
                    DSAWorkQueueInfo(
                        device: devname, name: api.wqName(w).map { String(cString: $0) } ?? "wq?",
                        devicePath: hasPath ? Self.string(fromNulTerminated: path) : nil, numaNode: Int(api.deviceNumaNode(d)),
                        version: api.deviceVersion(d),
                        enabled: deviceEnabled && api.wqState(w) == Int32(ACCFG_WQ_ENABLED.rawValue),
                        isUser: api.wqType(w) == Int32(ACCFG_WQT_USER.rawValue),
                        dedicated: api.wqMode(w) == Int32(ACCFG_WQ_DEDICATED.rawValue), size: Int(api.wqSize(w)),
                        threshold: Int(api.wqThreshold(w)), maxBatchSize: Int(api.wqMaxBatch(w)),
                        maxTransferSize: Int(api.wqMaxTransfer(w)), blockOnFault: api.wqBlockOnFault(w) == 1,
                        genCap: api.deviceGenCap(d), operations: ops))
            }
        }
        return .success(found)
    }

    private func readSysfs(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = read(fd, &buffer, buffer.count)
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n], as: UTF8.self)
    }

    /// The text before the first NUL of a C buffer the library filled.
    private static func string(fromNulTerminated buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The libaccel-config functions discovery uses, resolved with `dlsym`. Struct pointers
/// are opaque; C enums are `int`.
private struct AccelConfigAPI {
    typealias P = OpaquePointer
    let new: @convention(c) (UnsafeMutablePointer<P?>) -> Int32
    let unref: @convention(c) (P) -> P?
    let deviceFirst: @convention(c) (P) -> P?
    let deviceNext: @convention(c) (P) -> P?
    let deviceName: @convention(c) (P) -> UnsafePointer<CChar>?
    let deviceType: @convention(c) (P) -> Int32
    let deviceState: @convention(c) (P) -> Int32
    let deviceVersion: @convention(c) (P) -> UInt32
    let deviceNumaNode: @convention(c) (P) -> Int32
    let deviceGenCap: @convention(c) (P) -> UInt64
    let wqFirst: @convention(c) (P) -> P?
    let wqNext: @convention(c) (P) -> P?
    let wqName: @convention(c) (P) -> UnsafePointer<CChar>?
    let wqMode: @convention(c) (P) -> Int32
    let wqType: @convention(c) (P) -> Int32
    let wqState: @convention(c) (P) -> Int32
    let wqSize: @convention(c) (P) -> UInt64
    let wqThreshold: @convention(c) (P) -> Int32
    let wqMaxBatch: @convention(c) (P) -> UInt32
    let wqMaxTransfer: @convention(c) (P) -> UInt64
    let wqBlockOnFault: @convention(c) (P) -> Int32
    let wqUserDevPath: @convention(c) (P, UnsafeMutablePointer<CChar>, Int) -> Int32

    init?(_ h: UnsafeMutableRawPointer) {
        func sym<T>(_ name: String, _: T.Type) -> T? {
            guard let p = dlsym(h, name) else { return nil }
            return unsafeBitCast(p, to: T.self)
        }
        guard let new = sym("accfg_new", type(of: new)), let unref = sym("accfg_unref", type(of: unref)),
            let deviceFirst = sym("accfg_device_get_first", type(of: deviceFirst)),
            let deviceNext = sym("accfg_device_get_next", type(of: deviceNext)),
            let deviceName = sym("accfg_device_get_devname", type(of: deviceName)),
            let deviceType = sym("accfg_device_get_type", type(of: deviceType)),
            let deviceState = sym("accfg_device_get_state", type(of: deviceState)),
            let deviceVersion = sym("accfg_device_get_version", type(of: deviceVersion)),
            let deviceNumaNode = sym("accfg_device_get_numa_node", type(of: deviceNumaNode)),
            let deviceGenCap = sym("accfg_device_get_gen_cap", type(of: deviceGenCap)),
            let wqFirst = sym("accfg_wq_get_first", type(of: wqFirst)),
            let wqNext = sym("accfg_wq_get_next", type(of: wqNext)),
            let wqName = sym("accfg_wq_get_devname", type(of: wqName)),
            let wqMode = sym("accfg_wq_get_mode", type(of: wqMode)),
            let wqType = sym("accfg_wq_get_type", type(of: wqType)),
            let wqState = sym("accfg_wq_get_state", type(of: wqState)),
            let wqSize = sym("accfg_wq_get_size", type(of: wqSize)),
            let wqThreshold = sym("accfg_wq_get_threshold", type(of: wqThreshold)),
            let wqMaxBatch = sym("accfg_wq_get_max_batch_size", type(of: wqMaxBatch)),
            let wqMaxTransfer = sym("accfg_wq_get_max_transfer_size", type(of: wqMaxTransfer)),
            let wqBlockOnFault = sym("accfg_wq_get_block_on_fault", type(of: wqBlockOnFault)),
            let wqUserDevPath = sym("accfg_wq_get_user_dev_path", type(of: wqUserDevPath))
        else { return nil }
        self.new = new
        self.unref = unref
        self.deviceFirst = deviceFirst
        self.deviceNext = deviceNext
        self.deviceName = deviceName
        self.deviceType = deviceType
        self.deviceState = deviceState
        self.deviceVersion = deviceVersion
        self.deviceNumaNode = deviceNumaNode
        self.deviceGenCap = deviceGenCap
        self.wqFirst = wqFirst
        self.wqNext = wqNext
        self.wqName = wqName
        self.wqMode = wqMode
        self.wqType = wqType
        self.wqState = wqState
        self.wqSize = wqSize
        self.wqThreshold = wqThreshold
        self.wqMaxBatch = wqMaxBatch
        self.wqMaxTransfer = wqMaxTransfer
        self.wqBlockOnFault = wqBlockOnFault
        self.wqUserDevPath = wqUserDevPath
    }
}
