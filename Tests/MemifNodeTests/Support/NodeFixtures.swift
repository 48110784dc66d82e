import CMemifLinux
import Foundation
import MemifCNI

/// Executables of this package, found next to the test bundle (`swift build --build-tests`
/// builds them too).
enum Tools {
    static var memifCNI: String { builtTool("memif-cni") }
    static var memifd: String { builtTool("memifd") }
    static var memifctl: String { builtTool("memifctl") }

    /// `MEMIFKIT_NODE_BIN=DIR` runs the executables in DIR instead (e.g. a release build, to
    /// measure ADD latency of what ships).
    static func builtTool(_ name: String) -> String {
        if let dir = ProcessInfo.processInfo.environment["MEMIFKIT_NODE_BIN"] { return dir + "/" + name }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return name
    }

    static func uniqueName(_ prefix: String) -> String { "\(prefix)-\(getpid())-\(UUID().uuidString.prefix(6).lowercased())" }

    /// Runs a command to its end; returns its exit status and output.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, stdin: String = "") -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        do { try process.run() } catch { return (-1, "", "\(error)") }
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try? input.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}

/// A network namespace made for one test (`ip netns add`), deleted when released.
final class TestNamespace: @unchecked Sendable {
    let name: String
    var path: String { "/run/netns/\(name)" }
    private var deleted = false

    init(_ prefix: String = "mk") throws {
        name = Tools.uniqueName(prefix)
        let r = Tools.run("/sbin/ip", ["netns", "add", name])
        guard r.status == 0 else { throw FixtureError("ip netns add \(name): \(r.stderr)") }
        CleanupBag.add { [self] in delete() }
    }

    /// `ss -xlH` inside the namespace: the unix listeners it holds.
    var unixListeners: String { Tools.run("/sbin/ip", ["netns", "exec", name, "ss", "-xlH"]).stdout }

    func delete() {
        guard !deleted else { return }
        deleted = true
        Tools.run("/sbin/ip", ["netns", "del", name])
    }

    deinit { delete() }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A memifd process with its own socket, state file and metrics port, in a scratch dir.
final class MemifdProcess: @unchecked Sendable {
    let directory: URL
    var socket: String { directory.appendingPathComponent("memifd.sock").path }
    var stateFile: String { directory.appendingPathComponent("state.json").path }
    let extraArguments: [String]
    private(set) var process: Process?
    private(set) var metricsPort: UInt16 = 0
    private var logURL: URL { directory.appendingPathComponent("memifd.log") }

    init(extraArguments: [String] = []) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(Tools.uniqueName("memifd"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.extraArguments = extraArguments
        CleanupBag.add { [self] in
            stop(signal: SIGKILL)
            try? FileManager.default.removeItem(at: directory)
        }
        try start()
    }

    var pid: Int32 { process?.processIdentifier ?? 0 }
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }
    var isRunning: Bool { process?.isRunning ?? false }

    func start() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Tools.memifd)
        p.arguments = ["--socket", socket, "--state-file", stateFile, "--metrics", "127.0.0.1:0"] + extraArguments
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logURL)
        handle.seekToEndOfFile()
        p.standardError = handle
        p.standardOutput = handle
        // Test threads block SIGTERM; spawn the child with nothing blocked so it can be stopped.
        var none = sigset_t(), saved = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        let before = log.components(separatedBy: "msg=serving").count
        try p.run()
        process = p
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let text = log
            if text.components(separatedBy: "msg=serving").count > before,
                let line = text.components(separatedBy: "\n").last(where: { $0.contains("msg=serving") }),
                let range = line.range(of: "metrics=127.0.0.1:")
            {
                metricsPort = UInt16(line[range.upperBound...].prefix { $0.isNumber }) ?? 0
                return
            }
            if !p.isRunning { break }
            usleep(20_000)
        }
        throw FixtureError("memifd did not start: \(log)")
    }

    func stop(signal: Int32 = SIGTERM) {
        guard let p = process, p.isRunning else { return }
        kill(p.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(10)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
    }

    /// memifd's open descriptors.
    var openDescriptors: Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1 }

    var state: JSON? {
        guard let data = FileManager.default.contents(atPath: stateFile) else { return nil }
        return try? JSON.parse(bytes: Array(data))
    }

    /// Attachments in the state file: 0 when memifd never wrote one, -1 when it is unreadable.
    var stateAttachmentCount: Int {
        guard FileManager.default.fileExists(atPath: stateFile) else { return 0 }
        return state?["attachments"]?.arrayValue?.count ?? -1
    }

    func http(_ path: String) -> (status: Int, body: String)? {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = metricsPort.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        guard case .success(let bytes) = UnixStream.readAll(fd, limit: 1 << 24) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let statusLine = text.split(separator: "\r\n").first, let code = Int(statusLine.split(separator: " ")[1]),
            let split = text.range(of: "\r\n\r\n")
        else { return nil }
        return (code, String(text[split.upperBound...]))
    }

    deinit {
        stop(signal: SIGKILL)
        try? FileManager.default.removeItem(at: directory)
    }
}

/// One CNI plugin invocation, exactly as a runtime makes it: `CNI_*` variables and the
/// network configuration on stdin.
struct CNICall {
    var command: String
    var containerID: String? = nil
    var netns: String? = nil
    var ifname: String? = "eth0"
    var args: String? = nil
    var path: String? = "/usr/lib/cni"
    var config: String = ""

    var environment: [String: String] {
        var env = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "CNI_COMMAND": command]
        if let containerID { env["CNI_CONTAINERID"] = containerID }
        if let netns { env["CNI_NETNS"] = netns }
        if let ifname { env["CNI_IFNAME"] = ifname }
        if let args { env["CNI_ARGS"] = args }
        if let path { env["CNI_PATH"] = path }
        return env
    }

    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        var seconds: Double
        var json: JSON? { try? JSON.parse(stdout) }
        var errorCode: Int? { json?["code"]?.intValue }
        var errorMessage: String { json?["msg"]?.stringValue ?? "" }
    }

    /// Spawns the plugin with exactly this environment (posix_spawn, pipes, waitpid: the
    /// timing covers the plugin's life, not a process library's polling).
    func run(_ plugin: String = Tools.memifCNI) -> Outcome {
        Spawn.run(plugin, environment: environment, stdin: config)
    }
}

/// Network configurations for memif-cni.
enum NetConf {
    static let portsKey = "cni.projectcalico.org/vppExtraMemifPorts"

    static func memif(
        version: String = "1.1.0", name: String = "memif-test", socket: String, annotations: [String: String]? = [portsKey: "tcp:4444-20000,udp:53"],
        prevResult: JSON? = nil, extra: [(String, JSON)] = []
    ) -> String {
        var m: [(key: String, value: JSON)] = [
            ("cniVersion", .string(version)), ("name", .string(name)), ("type", .string("memif-cni")),
            ("memifdSocket", .string(socket)), ("capabilities", .object([("io.kubernetes.cri.pod-annotations", .bool(true))])),
        ]
        if let annotations {
            m.append(("runtimeConfig", .object([("io.kubernetes.cri.pod-annotations", .object(annotations.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))])))
        }
        if let prevResult { m.append(("prevResult", prevResult)) }
        m += extra.map { (key: $0.0, value: $0.1) }
        return JSON.object(m).serialized
    }

    static func ptp(dataDir: String, subnet: String) -> String {
        """
        {"cniVersion":"1.0.0","name":"memif-test","type":"ptp","ipMasq":false,\
        "ipam":{"type":"host-local","subnet":"\(subnet)","dataDir":"\(dataDir)"}}
        """
    }
}

enum Wait {
    static func until(timeout: Double = 5, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }
}

enum Spawn {
    static func run(_ executable: String, environment: [String: String], stdin: String) -> CNICall.Outcome {
        var input: [Int32] = [0, 0], output: [Int32] = [0, 0], errors: [Int32] = [0, 0]
        // Close-on-exec: a child spawned at the same moment by another thread must not inherit
        // these ends (it would hold this child's stdin open, and both would wait forever).
        // dup2 onto 0, 1 and 2 clears the flag for the child's own copies.
        guard cmemif_pipe_cloexec(&input) == 0, cmemif_pipe_cloexec(&output) == 0, cmemif_pipe_cloexec(&errors) == 0 else {
            return .init(status: -1, stdout: "", stderr: "pipe", seconds: 0)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
        for fd in input + output + errors { posix_spawn_file_actions_addclose(&actions, fd) }
        let env = environment.map { "\($0.key)=\($0.value)" }
        var cEnv: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
        var cArgs: [UnsafeMutablePointer<CChar>?] = [strdup(executable), nil]
        defer { for p in cEnv + cArgs { free(p) } }
        var pid: pid_t = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let rc = posix_spawn(&pid, executable, &actions, nil, &cArgs, &cEnv)
        close(input[0]); close(output[1]); close(errors[1])
        guard rc == 0 else {
            close(input[1]); close(output[0]); close(errors[0])
            return .init(status: -1, stdout: "", stderr: "posix_spawn: \(rc)", seconds: 0)
        }
        let bytes = Array(stdin.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(input[1], $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { break }
            offset += n
        }
        close(input[1])
        func drain(_ fd: Int32) -> String {
            defer { close(fd) }
            if case .success(let b) = UnixStream.readAll(fd, limit: 1 << 24) { return String(decoding: b, as: UTF8.self) }
            return ""
        }
        let out = drain(output[0])
        let err = drain(errors[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return .init(status: exit, stdout: out, stderr: err, seconds: seconds)
    }
}
