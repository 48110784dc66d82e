import CMemifCurl
import Foundation

/// Where the API server is and how to prove who we are: the in-cluster service account by
/// default (`KUBERNETES_SERVICE_HOST`/`_PORT`, the token and CA under
/// `/var/run/secrets/kubernetes.io/serviceaccount/`).
public struct KubernetesAPIConfiguration: Sendable, Hashable {
    /// `https://host:port`, without a trailing slash.
    public var server: String
    /// PEM bundle the server's certificate must chain to.
    public var caFile: String
    /// Read again for every request: projected service-account tokens are rotated.
    public var tokenFile: String?
    public var connectTimeout: Duration
    public var requestTimeout: Duration

    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    public init(
        server: String, caFile: String, tokenFile: String?, connectTimeout: Duration = .seconds(5),
        requestTimeout: Duration = .seconds(10)
    ) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.caFile = caFile
        self.tokenFile = tokenFile
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
    }

    /// The configuration a pod (memifd's DaemonSet) gets from Kubernetes.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory directory: String = serviceAccountDirectory
    ) throws(PodLookupError) -> KubernetesAPIConfiguration {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty else {
            throw .configuration("KUBERNETES_SERVICE_HOST is not set: not running in a pod?")
        }
        let port = environment["KUBERNETES_SERVICE_PORT"].flatMap { $0.isEmpty ? nil : $0 } ?? "443"
        guard UInt16(port) != nil else { throw .configuration("KUBERNETES_SERVICE_PORT '\(port)' is not a port") }
        let hostPart = host.contains(":") ? "[\(host)]" : host  // IPv6 service address
        return KubernetesAPIConfiguration(
            server: "https://\(hostPart):\(port)", caFile: "\(directory)/ca.crt", tokenFile: "\(directory)/token")
    }
}

/// A minimal HTTPS client for the Kubernetes API over libcurl: GET with a body, and GET
/// streamed line by line (watches). Blocking; each call uses its own libcurl handle.
public final class KubernetesAPIClient: Sendable {
    public let configuration: KubernetesAPIConfiguration

    public init(_ configuration: KubernetesAPIConfiguration) {
        self.configuration = configuration
    }

    private func token() throws(PodLookupError) -> String? {
        guard let file = configuration.tokenFile else { return nil }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw .configuration("cannot read the service-account token at \(file)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, !token.contains(where: { $0.isNewline || $0 == "\r" }) else {
            throw .configuration("the service-account token at \(file) is empty or spans lines")
        }
        return token
    }

    /// GETs `path` (with its query) and returns the status and the whole body.
    public func get(_ path: String) throws(PodLookupError) -> (status: Int, body: Data) {
        let sink = BodySink(onLine: nil)
        let status = try perform(path, timeout: configuration.requestTimeout, cancel: nil, sink: sink)
        return (status, sink.body)
    }

    /// GETs `path` and hands every complete line of the body to `onLine` as it arrives, until
    /// the server ends the response, `onLine` returns false, or `cancel` is set. Returns the
    /// status; a non-200 body is returned whole in `errorBody`.
    public func stream(_ path: String, cancel: CancelFlag, onLine: @escaping (Data) -> Bool) throws(PodLookupError) -> (
        status: Int, errorBody: Data
    ) {
        let sink = BodySink(onLine: onLine)
        let status = try perform(path, timeout: .zero, cancel: cancel, sink: sink)
        return (status, status == 200 ? Data() : sink.body)
    }

    private func perform(_ path: String, timeout: Duration, cancel: CancelFlag?, sink: BodySink) throws(PodLookupError) -> Int {
        let url = configuration.server + path
        let bearer = try token()
        var status = 0
        var message = [CChar](repeating: 0, count: 512)
        let context = Unmanaged.passUnretained(sink).toOpaque()
        let connectMs = Int(configuration.connectTimeout.components.seconds * 1000)
        let totalMs = Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let rc = message.withUnsafeMutableBufferPointer { m in
            cmk_http_get(
                url, configuration.caFile, bearer, connectMs, totalMs, cancel?.pointer,
                { data, length, context in
                    let sink = Unmanaged<BodySink>.fromOpaque(context!).takeUnretainedValue()
                    return sink.accept(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
                }, context, &status, m.baseAddress, m.count)
        }
        if rc != 0 {
            if sink.stopped || (cancel?.isSet ?? false) { return 200 }  // we ended it
            throw .transport(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        sink.finish()
        return status
    }
}

/// Set from any thread to end a ``KubernetesAPIClient/stream(_:cancel:onLine:)`` early.
public final class CancelFlag: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int32>

    public init() {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: 0)
    }

    deinit { pointer.deallocate() }

    public func set() { cmemif_curl_store(pointer, 1) }
    public func reset() { cmemif_curl_store(pointer, 0) }
    public var isSet: Bool { cmemif_curl_load(pointer) != 0 }
}

/// Collects a body, or splits it into lines for a stream.
private final class BodySink {
    var body = Data()
    private let onLine: ((Data) -> Bool)?
    private(set) var stopped = false
    private static let maximumBody = 64 << 20

    init(onLine: ((Data) -> Bool)?) { self.onLine = onLine }

    func accept(_ bytes: UnsafeRawBufferPointer) -> Bool {
        body.append(contentsOf: bytes)
        guard body.count <= Self.maximumBody else { return false }
        guard let onLine else { return true }
        while let newline = body.firstIndex(of: 0x0A) {
            let line = body[body.startIndex..<newline]
            body.removeSubrange(body.startIndex...newline)
            if !line.isEmpty && !onLine(Data(line)) {
                stopped = true
                return false
            }
        }
        return true
    }

    func finish() {
        guard let onLine, !body.isEmpty, !stopped else { return }
        if (try? JSONSerialization.jsonObject(with: body)) != nil {
            _ = onLine(body)
            body = Data()
        }
    }
}
