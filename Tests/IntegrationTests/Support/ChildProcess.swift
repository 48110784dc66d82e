import Foundation

/// A child process for integration tests (memifctl, dpdk-testpmd): output captured to a
/// file, stopped and reaped on every path so no test leaves a process behind.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    let outputURL: URL
    private let input = Pipe()

    init(_ executable: String, _ arguments: [String]) throws {
        outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("memifkit-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: outputURL)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        // Kept open so a program that reads stdin (testpmd) does not see EOF and exit.
        process.standardInput = input
        // posix_spawn passes on the calling thread's signal mask, and test threads block
        // SIGTERM and SIGINT: the child would ignore stop()'s signal. Spawn with none blocked.
        var none = sigset_t()
        var saved = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        try process.run()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: outputURL)
    }

    var output: String { (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "" }

    var isRunning: Bool { process.isRunning }

    /// Sends `signal`, waits up to `timeout` seconds, then SIGKILLs.
    func stop(signal: Int32 = SIGTERM, timeout: Double = 5) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, signal)
        if !waitForExit(timeout: timeout) {
            kill(process.processIdentifier, SIGKILL)
            _ = waitForExit(timeout: 5)
        }
    }

    @discardableResult
    func waitForExit(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        return !process.isRunning
    }

    /// Writes `line` and a newline to the child's stdin (testpmd's interactive prompt).
    func send(_ line: String) {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// Waits until the output contains `text`.
    func waitForOutput(_ text: String, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if output.contains(text) { return true }
            if !process.isRunning { return output.contains(text) }
            usleep(20_000)
        }
        return false
    }
}

enum TestPaths {
    /// The built memifctl, next to the test bundle (`swift build --build-tests` builds both).
    static var memifctl: String { ProcessInfo.processInfo.environment["MEMIFCTL"] ?? builtTool("memifctl") }

    /// The built l3fwd sample.
    static var l3fwd: String { ProcessInfo.processInfo.environment["L3FWD"] ?? builtTool("l3fwd") }

    /// An executable of this package, found next to the test bundle.
    static func builtTool(_ name: String) -> String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return name
    }

    /// A name no other test or run uses.
    static func uniqueName(_ prefix: String) -> String { "\(prefix)-\(getpid())-\(UUID().uuidString.prefix(8))" }
}
