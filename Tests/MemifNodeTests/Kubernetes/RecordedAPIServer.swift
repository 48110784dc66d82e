import Foundation
import MemifNode

/// The recorded stand-in for the Kubernetes API server (Tests/Support/kubernetes): a Python
/// HTTPS server on 127.0.0.1 with a throwaway CA and certificate made by the openssl CLI,
/// replaying real-shaped Pod, PodList, Status and watch-event fixtures. No API server runs here.
final class RecordedAPIServer {
    static let support = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Support/kubernetes")
    static let token = "eyJhbGciOiJSUzI1NiIsImtpZCI6Im1lbWlma2l0LXRlc3QifQ.recorded-stand-in.signature"

    let directory: URL
    let port: Int
    private let process: Process

    struct Route: Encodable {
        var path: String
        var watch = false
        var responses: [Response]
    }

    struct Response: Encodable {
        var status: Int
        var fixture: String?
        var events: [String]?
        var hold: Double?
    }

    init(routes: [Route]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("memifkit-apiserver-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let d = directory.path
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: "\(d)/san.ext", atomically: true, encoding: .utf8)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try shell(["openssl", "req", "-x509"] + ec + ["-keyout", "\(d)/ca.key", "-out", "\(d)/ca.crt", "-days", "1", "-subj", "/CN=memifkit test CA"])
        try shell(["openssl", "req", "-x509"] + ec + ["-keyout", "\(d)/other-ca.key", "-out", "\(d)/other-ca.crt", "-days", "1", "-subj", "/CN=another CA"])
        try shell(["openssl", "req"] + ec + ["-keyout", "\(d)/server.key", "-out", "\(d)/server.csr", "-subj", "/CN=localhost"])
        try shell([
            "openssl", "x509", "-req", "-in", "\(d)/server.csr", "-CA", "\(d)/ca.crt", "-CAkey", "\(d)/ca.key",
            "-CAcreateserial", "-out", "\(d)/server.crt", "-days", "1", "-extfile", "\(d)/san.ext",
        ])
        struct Script: Encodable {
            var token: String
            var routes: [Route]
        }
        try JSONEncoder().encode(Script(token: Self.token, routes: routes)).write(to: directory.appendingPathComponent("script.json"))
        try Self.token.write(toFile: "\(d)/token", atomically: true, encoding: .utf8)
        try "not-the-token".write(toFile: "\(d)/wrong-token", atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            "-u", Self.support.appendingPathComponent("recorded_apiserver.py").path, "\(d)/script.json", "\(d)/server.crt",
            "\(d)/server.key", "\(d)/requests.log",
        ]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        guard line.hasPrefix("port "), let p = Int(line.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            kill(process.processIdentifier, SIGKILL)
            throw TopologyError.command("recorded API server did not start: \(line)")
        }
        port = p
    }

    deinit {
        kill(process.processIdentifier, SIGKILL)  // Foundation starts children with SIGTERM blocked
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    /// A client as memifd would build it in-cluster, pointed at this server.
    func client(tokenFile: String = "token", caFile: String = "ca.crt") throws -> KubernetesAPIClient {
        let configuration = try KubernetesAPIConfiguration.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "localhost", "KUBERNETES_SERVICE_PORT": String(port)],
            serviceAccountDirectory: directory.path)
        var c = configuration
        c.tokenFile = directory.appendingPathComponent(tokenFile).path
        c.caFile = directory.appendingPathComponent(caFile).path
        return KubernetesAPIClient(c)
    }

    struct Request: Decodable {
        var path: String
        var query: [String: String]
        var authorization: String
    }

    /// Every request the server has seen, in order.
    func requests() -> [Request] {
        guard let text = try? String(contentsOf: directory.appendingPathComponent("requests.log"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
    }
}
