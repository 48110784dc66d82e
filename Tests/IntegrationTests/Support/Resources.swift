import Foundation

/// What a leak would grow: this process's open fds and memory mappings.
enum Resources {
    static func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }

    /// Mappings of memif regions (memfds are named "memif region N").
    static func regionMappings() -> Int {
        procFile("/proc/self/maps").split(separator: "\n").filter { $0.contains("memif region") }.count
    }

    static func allMappings() -> Int { procFile("/proc/self/maps").split(separator: "\n").count }

    /// A /proc file read to its end (String(contentsOfFile:) stops after the first page).
    static func procFile(_ path: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    }

    /// Polls `condition` every 10 ms until it holds or `timeout` seconds pass.
    static func eventually(timeout: Double = 5, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }
}
