/// A heap block of exactly `count` bytes (plus optional spare capacity) holding a test packet, so a
/// read past the end is a read past an allocation, which the address sanitizer reports.
final class PacketBytes {
    let pointer: UnsafeMutableRawPointer
    let count: Int
    let capacity: Int

    init(_ bytes: [UInt8], capacity: Int? = nil) {
        self.count = bytes.count
        self.capacity = max(capacity ?? bytes.count, bytes.count)
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(self.capacity, 1), alignment: 1)
        bytes.withUnsafeBytes { if let b = $0.baseAddress { pointer.copyMemory(from: b, byteCount: bytes.count) } }
    }

    convenience init(hex: String, capacity: Int? = nil) { self.init(Hex.bytes(hex), capacity: capacity) }

    deinit { pointer.deallocate() }

    func bytes(_ n: Int? = nil) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: pointer, count: n ?? count))
    }
}

enum Hex {
    /// Bytes from hex text; spaces and newlines are ignored.
    static func bytes(_ text: String) -> [UInt8] {
        let digits = text.utf8.filter { !($0 == 32 || $0 == 10) }
        precondition(digits.count % 2 == 0, "odd hex digit count")
        var out: [UInt8] = []
        var i = digits.startIndex
        while i < digits.endIndex {
            out.append(UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16)!)
            i += 2
        }
        return out
    }

    static func string(_ bytes: [UInt8]) -> String {
        bytes.map { String($0 >> 4, radix: 16) + String($0 & 15, radix: 16) }.joined()
    }
}

/// SplitMix64: a small seeded generator, so property tests replay exactly.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Result {
    var error: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
    var value: Success? {
        if case .success(let v) = self { return v }
        return nil
    }
}
