/// A string that is not an address of the kind asked for, with what was wrong, for config errors.
public struct AddressParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// "MAC", "IPv4" or "IPv6".
    public let kind: String
    /// The text as given.
    public let text: String
    /// What is wrong with it.
    public let reason: String

    public init(kind: String, text: String, reason: String) {
        self.kind = kind
        self.text = text
        self.reason = reason
    }

    public var description: String { "invalid \(kind) address '\(text)': \(reason)" }
}

/// Small text helpers shared by the address parsers (config-time code, never per packet).
enum AddressText {
    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c &- UInt8(ascii: "A") &+ 10
        default: nil
        }
    }

    static let hexDigits: [Character] = Array("0123456789abcdef")

    /// Lowercase hex without leading zeros ("0" for zero).
    static func hex(_ value: UInt16) -> String {
        String(value, radix: 16, uppercase: false)
    }

    /// Parses a dotted quad strictly: four decimal parts 0...255, no leading zeros, nothing else.
    static func dottedQuad(_ bytes: ArraySlice<UInt8>, kind: String, text: String, context: String = "")
        throws(AddressParseError) -> UInt32
    {
        var value: UInt32 = 0
        var parts = 0
        var part: UInt32 = 0
        var digits = 0
        var first: UInt8 = 0
        func finish() -> String? {
            if digits == 0 { return "empty part" }
            if digits > 1 && first == UInt8(ascii: "0") { return "leading zero in a part" }
            if part > 255 { return "part above 255" }
            value = value << 8 | part
            parts += 1
            return nil
        }
        for c in bytes {
            if c == UInt8(ascii: ".") {
                if let e = finish() { throw AddressParseError(kind: kind, text: text, reason: context + e) }
                if parts == 4 { throw AddressParseError(kind: kind, text: text, reason: context + "more than four parts") }
                part = 0
                digits = 0
            } else if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
                if digits == 0 { first = c }
                digits += 1
                if digits > 3 { throw AddressParseError(kind: kind, text: text, reason: context + "part longer than three digits") }
                part = part * 10 + UInt32(c - UInt8(ascii: "0"))
            } else {
                throw AddressParseError(
                    kind: kind, text: text, reason: context + "unexpected character '\(Character(Unicode.Scalar(c)))'")
            }
        }
        if let e = finish() { throw AddressParseError(kind: kind, text: text, reason: context + e) }
        if parts != 4 {
            throw AddressParseError(kind: kind, text: text, reason: context + "expected four parts, found \(parts)")
        }
        return value
    }
}
