import Foundation

/// Runs the control-path tools (`nft`, `ip`, `sh` for sysctls) in one network namespace:
/// through `nsenter --net=PATH` when a namespace path is given, directly otherwise. Never on
/// the data path.
public struct NetworkCommands: Sendable {
    /// The namespace file (`/run/netns/NAME`, `/proc/PID/ns/net`), or nil for the caller's.
    public let namespacePath: String?

    public init(namespacePath: String?) {
        self.namespacePath = namespacePath
    }

    /// What a command printed and how it ended.
    public struct Output: Sendable {
        public var status: Int32
        public var standardOutput: String
        public var standardError: String
        public var succeeded: Bool { status == 0 }
    }

    /// Runs `arguments` (the tool first) with `input` on its standard input.
    public func run(_ arguments: [String], input: String? = nil) throws(KernelSteeringError) -> Output {
        var argv = arguments
        if let ns = namespacePath { argv = ["nsenter", "--net=\(ns)", "--"] + argv }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = (environment["PATH"].map { $0 + ":" } ?? "") + "/usr/sbin:/sbin:/usr/bin:/bin"
        process.environment = environment
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inPipe
        do {
            try process.run()
        } catch {
            throw KernelSteeringError(.command, "cannot start \(argv.joined(separator: " ")): \(error)")
        }
        if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
        try? inPipe.fileHandleForWriting.close()
        // Read both pipes to the end before waiting, so a chatty tool cannot block on a full pipe.
        let errData = ReadAll(err.fileHandleForReading)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, standardOutput: String(decoding: outData, as: UTF8.self),
            standardError: String(decoding: errData.wait(), as: UTF8.self))
    }

    /// Runs `arguments` and throws with the tool's own message when it fails.
    @discardableResult
    public func check(_ arguments: [String], input: String? = nil) throws(KernelSteeringError) -> String {
        let output = try run(arguments, input: input)
        guard output.succeeded else {
            let what = arguments.joined(separator: " ")
            let why = output.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
            throw KernelSteeringError(.command, "'\(what)' failed (exit \(output.status)): \(why)")
        }
        return output.standardOutput
    }

    /// Writes a sysctl of this namespace (`net/ipv4/conf/IF/rp_filter`).
    public func setSysctl(_ key: String, _ value: String) throws(KernelSteeringError) {
        try check(["sh", "-c", "echo \(value) > /proc/sys/\(key)"])
    }
}

/// Drains a pipe on a helper thread while the other pipe is read on the caller's.
private final class ReadAll: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
