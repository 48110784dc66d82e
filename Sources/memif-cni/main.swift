import MemifCNI

#if canImport(Glibc)
import Glibc
#endif

// memif-cni: the CNI plugin (spec 1.1, also 1.0.0 conflists). Thin: reads the environment and
// stdin, runs CNIPlugin, prints its document. No Foundation, so it starts fast.

var environment: [String: String] = [:]
var entry = environ
while let pointer = entry.pointee {
    let pair = String(cString: pointer)
    if let eq = pair.firstIndex(of: "=") {
        environment[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
    }
    entry += 1
}

var input: [UInt8] = []
var chunk = [UInt8](repeating: 0, count: 65536)
readLoop: while input.count <= NodeProtocol.maximumMessageBytes {
    let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
    switch n {
    case 0: break readLoop
    case ..<0: if errno != EINTR { break readLoop }
    default: input.append(contentsOf: chunk[0..<n])
    }
}

let outcome = CNIPlugin.run(environment: environment, stdin: input)
_ = UnixStream.writeAll(1, Array(outcome.stdout.utf8))
exit(outcome.exitStatus)
