import CMemifLinux

/// Where a memif control socket lives: a filesystem path, or an abstract name that belongs
/// to a network namespace (reference section 1.1, gotcha G2).
///
/// Spellings accepted: `@name` (libmemif, gomemif), `abstract:name` (VPP), or a path.
public struct MemifSocketName: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        case filesystem
        case abstract
    }

    public let kind: Kind
    /// The path, or the abstract name without its leading NUL or `@`.
    public let name: String

    public init(_ spelling: String) throws(MemifError) {
        if spelling.hasPrefix("@") {
            self.kind = .abstract
            self.name = String(spelling.dropFirst())
        } else if spelling.hasPrefix("abstract:") {
            self.kind = .abstract
            self.name = String(spelling.dropFirst("abstract:".count))
        } else {
            self.kind = .filesystem
            self.name = spelling
        }
        let limit = cmemif_max_unix_name(kind == .abstract ? 1 : 0)
        guard !name.isEmpty else { throw MemifError(.invalidSocket, "socket name '\(spelling)' is empty") }
        guard name.utf8.count <= limit else {
            throw MemifError(.invalidSocket, "socket name '\(spelling)' is longer than \(limit) bytes")
        }
        guard !name.utf8.contains(0) else {
            throw MemifError(.invalidSocket, "socket name '\(spelling)' contains a NUL byte")
        }
    }

    /// The libmemif spelling: `@name` for abstract names, the path otherwise.
    public var description: String { kind == .abstract ? "@\(name)" : name }
}
