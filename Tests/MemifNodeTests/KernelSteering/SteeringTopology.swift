import Foundation
import MemifNode
import MemifPacket
import Testing

/// Runs a command and returns its status and output (stderr folded into the message on failure).
@discardableResult
func shell(_ arguments: [String], check: Bool = true) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: outData, as: UTF8.self)
    if check && process.terminationStatus != 0 {
        throw TopologyError.command("\(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: errData, as: UTF8.self))")
    }
    return text
}

enum TopologyError: Error { case command(String) }

/// Three network namespaces made for one test and deleted with it: `src` (a traffic source),
/// `node` (where memifkit steers) and `pod`, wired like the CNI ptp plugin: the pod holds
/// 10.91.2.2/32 (and fd91:2::2/64) behind a veth whose node side routes the /32 to it.
final class SteeringTopology {
    static let podIPv4 = IPv4Address(10, 91, 2, 2)
    static let podIPv6 = IPv6Address("fd91:2::2")!
    static let traffic = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Support/ksteer_traffic.py").path

    let src: String
    let node: String
    let pod: String
    private var servers: [Process] = []

    var nodePath: String { "/run/netns/\(node)" }

    init() throws {
        let tag = "mkst\(getpid() % 100000)x\(UUID().uuidString.prefix(6).lowercased())"
        src = "\(tag)-src"
        node = "\(tag)-node"
        pod = "\(tag)-pod"
        do {
            try build()
        } catch {
            destroy()
            throw error
        }
    }

    deinit {
        // SIGKILL: Foundation starts children with SIGTERM blocked.
        for s in servers where s.isRunning {
            kill(s.processIdentifier, SIGKILL)
            s.waitUntilExit()
        }
        destroy()
    }

    private func build() throws {
        for ns in [src, node, pod] { try shell(["ip", "netns", "add", ns]) }
        try shell(["ip", "-n", node, "link", "add", "vsrc", "type", "veth", "peer", "name", "eth0", "netns", src])
        try shell(["ip", "-n", node, "link", "add", "vpod", "type", "veth", "peer", "name", "eth0", "netns", pod])
        let steps: [[String]] = [
            ["ip", "-n", src, "link", "set", "lo", "up"],
            ["ip", "-n", src, "link", "set", "eth0", "up"],
            ["ip", "-n", src, "addr", "add", "10.91.1.2/24", "dev", "eth0"],
            ["ip", "-n", src, "addr", "add", "fd91:1::2/64", "dev", "eth0", "nodad"],
            ["ip", "-n", src, "route", "add", "default", "via", "10.91.1.1"],
            ["ip", "-n", src, "-6", "route", "add", "default", "via", "fd91:1::1"],
            ["ip", "-n", node, "link", "set", "lo", "up"],
            ["ip", "-n", node, "link", "set", "vsrc", "up"],
            ["ip", "-n", node, "link", "set", "vpod", "up"],
            ["ip", "-n", node, "addr", "add", "10.91.1.1/24", "dev", "vsrc"],
            ["ip", "-n", node, "addr", "add", "fd91:1::1/64", "dev", "vsrc", "nodad"],
            ["ip", "-n", node, "addr", "add", "10.91.0.1/32", "dev", "vpod"],
            ["ip", "-n", node, "addr", "add", "fd91:2::1/64", "dev", "vpod", "nodad"],
            ["ip", "-n", node, "route", "add", "10.91.2.2/32", "dev", "vpod"],
            ["ip", "netns", "exec", node, "sh", "-c",
             "echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/ipv6/conf/all/forwarding"],
            ["ip", "-n", pod, "link", "set", "lo", "up"],
            ["ip", "-n", pod, "link", "set", "eth0", "up"],
            ["ip", "-n", pod, "addr", "add", "10.91.2.2/32", "dev", "eth0"],
            ["ip", "-n", pod, "addr", "add", "fd91:2::2/64", "dev", "eth0", "nodad"],
            ["ip", "-n", pod, "route", "add", "10.91.0.1", "dev", "eth0", "scope", "link"],
            ["ip", "-n", pod, "route", "add", "default", "via", "10.91.0.1", "dev", "eth0"],
            ["ip", "-n", pod, "-6", "route", "add", "default", "via", "fd91:2::1"],
        ]
        for step in steps { try shell(step) }
    }

    private func destroy() {
        for ns in [src, node, pod] { _ = try? shell(["ip", "netns", "del", ns], check: false) }
    }

    /// Starts the pod's kernel echo server on `ports` (UDP echo with "kernel:" prefix, TCP accept).
    func startPodServer(ports: [UInt16]) throws {
        let process = Process()
        // nsenter execs in place (`ip netns exec` forks), so terminating the process stops the server.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
        process.arguments = ["--net=/run/netns/\(pod)", "/usr/bin/python3", "-u", Self.traffic, "server"] + ports.map(String.init)
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        servers.append(process)
        let line = out.fileHandleForReading.availableData
        guard String(decoding: line, as: UTF8.self).contains("ready") else {
            throw TopologyError.command("pod server did not start")
        }
    }

    /// Runs the traffic script in the source namespace.
    func traffic(_ arguments: [String]) throws -> String {
        try shell(["ip", "netns", "exec", src, "/usr/bin/python3", Self.traffic] + arguments)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Sends `count` UDP datagrams from `src` and returns the replies' texts.
    func udp(_ destination: String, port: UInt16, count: Int = 1, timeout: Double = 1.5) throws -> [String] {
        let text = try traffic(["udp", destination, String(port), String(count), String(timeout)])
        struct Replies: Decodable { var replies: [String] }
        return try JSONDecoder().decode(Replies.self, from: Data(text.utf8)).replies
    }

    /// Everything memifkit could have left in the node namespace, one line per object.
    func leftovers() throws -> [String] {
        var found: [String] = []
        let ruleset = try shell(["ip", "netns", "exec", node, "nft", "list", "ruleset"])
        if ruleset.contains("memifkit") || ruleset.contains("pre-") { found.append("nft: \(ruleset)") }
        for family in ["-4", "-6"] {
            let rules = try shell(["ip", "-n", node, family, "rule", "show"])
            found += rules.split(separator: "\n").filter { $0.contains("fwmark") }.map { "rule: \($0)" }
        }
        let routes = try shell(["ip", "-n", node, "route", "show", "table", "all"])
            + (try shell(["ip", "-n", node, "-6", "route", "show", "table", "all"]))
        found += routes.split(separator: "\n").filter { $0.contains("mksteer") || $0.contains("table 12967") }.map { "route: \($0)" }
        let links = try shell(["ip", "-n", node, "link", "show"])
        found += links.split(separator: "\n").filter { $0.contains("mksteer") }.map { "link: \($0)" }
        return found
    }
}
