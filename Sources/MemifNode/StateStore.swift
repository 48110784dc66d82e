import MemifCNI

#if canImport(Glibc)
import Glibc
#endif

/// The state file: every attachment memifd holds, as versioned JSON, replaced atomically
/// (write a temporary file, fsync, rename over, fsync the directory) so a crash leaves either
/// the old or the new file, never a torn one.
public struct StateStore: Sendable {
    public static let formatVersion = 1
    public let path: String

    public init(path: String) { self.path = path }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The records in the file; an absent file is an empty state.
    public func load() throws(Failure) -> [AttachmentRecord] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return [] }
            throw Failure(description: "cannot open state file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let bytes: [UInt8]
        switch UnixStream.readAll(fd, limit: 256 << 20) {
        case .success(let b): bytes = b
        case .failure(let f): throw Failure(description: "cannot read state file \(path): \(f)")
        }
        let document: JSON
        do throws(JSONSyntaxError) {
            document = try JSON.parse(bytes: bytes)
        } catch {
            throw Failure(description: "state file \(path) is not JSON: \(error)")
        }
        guard document["memifkit-state"]?.intValue == Self.formatVersion else {
            throw Failure(description: "state file \(path) is not memifd state version \(Self.formatVersion)")
        }
        guard let items = document["attachments"]?.arrayValue else {
            throw Failure(description: "state file \(path) has no attachments array")
        }
        var records: [AttachmentRecord] = []
        for (i, item) in items.enumerated() {
            guard let record = AttachmentRecord(json: item) else {
                throw Failure(description: "state file \(path): attachment \(i) is malformed")
            }
            records.append(record)
        }
        return records
    }

    public func save(_ records: [AttachmentRecord]) throws(Failure) {
        let document = JSON.object([
            ("memifkit-state", JSON(Self.formatVersion)),
            ("attachments", .array(records.sorted { $0.key < $1.key }.map(\.json))),
        ])
        let bytes = Array((document.serialized + "\n").utf8)
        let directory = Self.directory(of: path)
        try Self.makeDirectories(directory)
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("cannot create \(temporary)") }
        guard UnixStream.writeAll(fd, bytes), fsync(fd) == 0 else {
            let f = failure("cannot write \(temporary)")
            close(fd)
            unlink(temporary)
            throw f
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let f = failure("cannot rename \(temporary) to \(path)")
            unlink(temporary)
            throw f
        }
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }

    /// Moves an unreadable file aside (kept for a human) so memifd can start empty.
    public func quarantine() -> String? {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let aside = "\(path).corrupt-\(now.tv_sec)"
        return rename(path, aside) == 0 ? aside : nil
    }

    private func failure(_ what: String) -> Failure { Failure(description: "\(what): \(String(cString: strerror(errno)))") }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `mkdir -p`.
    static func makeDirectories(_ directory: String) throws(Failure) {
        var current = ""
        for part in directory.split(separator: "/", omittingEmptySubsequences: true) {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw Failure(description: "cannot create directory \(current): \(String(cString: strerror(errno)))")
            }
        }
    }
}
