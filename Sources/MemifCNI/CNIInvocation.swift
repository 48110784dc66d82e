/// The CNI operation a runtime asked for, read from the spec's `CNI_*` environment variables
/// and checked the way the spec requires for each command (error 4 when one is missing or bad).
public struct CNIInvocation: Sendable, Hashable {
    public enum Command: String, Sendable, CaseIterable {
        case add = "ADD", del = "DEL", check = "CHECK", status = "STATUS", gc = "GC", version = "VERSION"
    }

    public var command: Command
    public var containerID: String?
    public var netns: String?
    public var ifname: String?
    public var args: CNIArgs
    public var path: [String]

    /// Reads and checks the environment. Unknown `CNI_ARGS` keys are refused unless
    /// `IgnoreUnknown` is set (CNI conventions); containerd and CRI-O always set it.
    public init(environment env: [String: String]) throws(CNIError) {
        guard let raw = env["CNI_COMMAND"], !raw.isEmpty else {
            throw CNIError(.invalidEnvironment, "CNI_COMMAND is not set")
        }
        guard let command = Command(rawValue: raw) else {
            throw CNIError(.invalidEnvironment, "CNI_COMMAND '\(raw)' is not one of ADD, DEL, CHECK, STATUS, GC, VERSION")
        }
        self.command = command
        func value(_ name: String) -> String? {
            guard let v = env[name], !v.isEmpty else { return nil }
            return v
        }
        containerID = value("CNI_CONTAINERID")
        netns = value("CNI_NETNS")
        ifname = value("CNI_IFNAME")
        path = (value("CNI_PATH") ?? "").split(separator: ":").map(String.init)
        // Only the commands that use CNI_ARGS check it; VERSION, STATUS and GC ignore it.
        switch command {
        case .add, .del, .check: args = try CNIArgs(value("CNI_ARGS") ?? "")
        case .status, .gc, .version: args = (try? CNIArgs(value("CNI_ARGS") ?? "")) ?? CNIArgs.none
        }

        let required: [String] =
            switch command {
            case .add, .check: ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"]
            case .del: ["CNI_CONTAINERID", "CNI_IFNAME"]
            case .gc: ["CNI_PATH"]
            case .status, .version: []
            }
        let missing = required.filter { value($0) == nil }
        guard missing.isEmpty else {
            throw CNIError(.invalidEnvironment, "\(command.rawValue) needs \(missing.joined(separator: ", ")), which \(missing.count == 1 ? "is" : "are") not set")
        }
        if let id = containerID, !Self.isValidContainerID(id) {
            throw CNIError(
                .invalidEnvironment, "CNI_CONTAINERID '\(id.prefix(80))' is not [A-Za-z0-9][A-Za-z0-9_.-]*")
        }
        if let name = ifname, !Self.isValidInterfaceName(name) {
            throw CNIError(.invalidEnvironment, "CNI_IFNAME '\(name.prefix(80))' is not a Linux interface name (1-15 bytes, no '/', ':' or whitespace, not '.' or '..')")
        }
        if let path = netns, !path.hasPrefix("/") {
            throw CNIError(.invalidEnvironment, "CNI_NETNS '\(path.prefix(80))' is not an absolute path")
        }
    }

    /// The spec's container id charset: `[A-Za-z0-9][A-Za-z0-9_.-]*`.
    public static func isValidContainerID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard let first = bytes.first, isAlphanumeric(first) else { return false }
        return bytes.dropFirst().allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
        }
    }

    /// What the kernel accepts as a netdev name (the spec's own check).
    public static func isValidInterfaceName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...15).contains(bytes.count), name != ".", name != ".." else { return false }
        return !bytes.contains { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ":") || $0 <= 0x20 || $0 == 0x7F }
    }

    private static func isAlphanumeric(_ c: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c)
    }
}

/// `CNI_ARGS`: `KEY=VALUE` pairs separated by `;`, with the Kubernetes keys runtimes pass.
public struct CNIArgs: Sendable, Hashable {
    public static let knownKeys: Set<String> = [
        "IgnoreUnknown", "K8S_POD_NAMESPACE", "K8S_POD_NAME", "K8S_POD_UID", "K8S_POD_INFRA_CONTAINER_ID",
    ]

    public var pairs: [String: String]

    public static let none = CNIArgs(pairs: [:])

    private init(pairs: [String: String]) { self.pairs = pairs }

    public init(_ raw: String) throws(CNIError) {
        var pairs: [String: String] = [:]
        for item in raw.split(separator: ";", omittingEmptySubsequences: true) {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                throw CNIError(.invalidEnvironment, "CNI_ARGS item '\(item.prefix(80))' is not KEY=VALUE")
            }
            pairs[String(item[..<eq])] = String(item[item.index(after: eq)...])
        }
        self.pairs = pairs
        let ignoreUnknown = ["1", "true"].contains(pairs["IgnoreUnknown"]?.lowercased() ?? "")
        if !ignoreUnknown, let unknown = pairs.keys.sorted().first(where: { !Self.knownKeys.contains($0) }) {
            throw CNIError(.invalidEnvironment, "CNI_ARGS has unknown key '\(unknown.prefix(80))' and no IgnoreUnknown=1")
        }
    }

    public var podNamespace: String? { pairs["K8S_POD_NAMESPACE"] }
    public var podName: String? { pairs["K8S_POD_NAME"] }
    public var podUID: String? { pairs["K8S_POD_UID"] }
}
