/// A small strict JSON (RFC 8259) reader for the spec annotations. It keeps every member's
/// key and value position so errors can point at the bad token, and it keeps duplicate keys
/// so each dialect can apply its own rule. Own reader instead of Foundation: memif-cni is a
/// static binary and Foundation would add ~7 MB to it (swift-practice.md appendix).
enum SpecJSON: Sendable, Hashable {
    case object([Member])
    case array([SpecJSON])
    case string(String)
    /// The literal as written; the caller decides what numbers it accepts.
    case number(String)
    case bool(Bool)
    case null

    struct Member: Sendable, Hashable {
        var key: String
        var keyColumn: Int
        var value: SpecJSON
        var valueColumn: Int
        /// The value's source text, for error messages.
        var valueText: String
    }

    struct SyntaxError: Error, Sendable, Hashable {
        var column: Int
        var token: String
        var problem: String
    }

    /// Nesting deeper than this is refused, so hostile input cannot exhaust the stack.
    static let maximumDepth = 32

    /// Parses one JSON value surrounded by optional whitespace; returns it with its column.
    static func parse(_ text: String) throws(SyntaxError) -> (value: SpecJSON, column: Int) {
        var reader = Reader(text: Array(text.unicodeScalars))
        reader.skipWhitespace()
        let column = reader.index + 1
        let value = try reader.value(depth: 0)
        reader.skipWhitespace()
        guard reader.index == reader.text.count else {
            throw reader.failure("unexpected text after the JSON value", at: reader.index, length: 16)
        }
        return (value, column)
    }

    var typeName: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}

private struct Reader {
    let text: [Unicode.Scalar]
    var index = 0

    init(text: [Unicode.Scalar]) {
        self.text = text
    }

    mutating func skipWhitespace() {
        while index < text.count, text[index] == " " || text[index] == "\t" || text[index] == "\n" || text[index] == "\r" {
            index += 1
        }
    }

    func failure(_ problem: String, at start: Int, length: Int = 1) -> SpecJSON.SyntaxError {
        let end = min(text.count, start + length)
        var token = String.UnicodeScalarView()
        if start < end { token.append(contentsOf: text[start..<end]) }
        return SpecJSON.SyntaxError(column: start + 1, token: String(token), problem: problem)
    }

    mutating func value(depth: Int) throws(SpecJSON.SyntaxError) -> SpecJSON {
        guard index < text.count else { throw failure("a JSON value is missing", at: index) }
        switch text[index] {
        case "{":
            guard depth < SpecJSON.maximumDepth else { throw failure("JSON nested too deeply", at: index) }
            return try object(depth: depth + 1)
        case "[":
            guard depth < SpecJSON.maximumDepth else { throw failure("JSON nested too deeply", at: index) }
            return try array(depth: depth + 1)
        case "\"":
            return .string(try string())
        case "t": try literal("true"); return .bool(true)
        case "f": try literal("false"); return .bool(false)
        case "n": try literal("null"); return .null
        case "-", "0"..."9": return .number(try number())
        default: throw failure("not a JSON value", at: index, length: 8)
        }
    }

    private mutating func object(depth: Int) throws(SpecJSON.SyntaxError) -> SpecJSON {
        index += 1
        var members: [SpecJSON.Member] = []
        skipWhitespace()
        if index < text.count, text[index] == "}" {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < text.count, text[index] == "\"" else {
                throw failure("expected a member name in double quotes", at: index)
            }
            let keyColumn = index + 1
            let key = try string()
            skipWhitespace()
            guard index < text.count, text[index] == ":" else { throw failure("expected ':' after the member name", at: index) }
            index += 1
            skipWhitespace()
            let valueStart = index
            let value = try self.value(depth: depth)
            var valueText = String.UnicodeScalarView()
            valueText.append(contentsOf: text[valueStart..<index])
            members.append(.init(key: key, keyColumn: keyColumn, value: value, valueColumn: valueStart + 1, valueText: String(valueText)))
            skipWhitespace()
            guard index < text.count else { throw failure("the object is not closed", at: index) }
            if text[index] == "," {
                index += 1
                continue
            }
            guard text[index] == "}" else { throw failure("expected ',' or '}'", at: index) }
            index += 1
            return .object(members)
        }
    }

    private mutating func array(depth: Int) throws(SpecJSON.SyntaxError) -> SpecJSON {
        index += 1
        var elements: [SpecJSON] = []
        skipWhitespace()
        if index < text.count, text[index] == "]" {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try value(depth: depth))
            skipWhitespace()
            guard index < text.count else { throw failure("the array is not closed", at: index) }
            if text[index] == "," {
                index += 1
                continue
            }
            guard text[index] == "]" else { throw failure("expected ',' or ']'", at: index) }
            index += 1
            return .array(elements)
        }
    }

    private mutating func literal(_ word: String) throws(SpecJSON.SyntaxError) {
        let scalars = Array(word.unicodeScalars)
        guard index + scalars.count <= text.count, Array(text[index..<index + scalars.count]) == scalars else {
            throw failure("not a JSON value", at: index, length: scalars.count)
        }
        index += scalars.count
    }

    /// `-? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?`
    private mutating func number() throws(SpecJSON.SyntaxError) -> String {
        let start = index
        func digits(_ r: inout Reader) -> Int {
            let s = r.index
            while r.index < r.text.count, ("0"..."9").contains(r.text[r.index]) { r.index += 1 }
            return r.index - s
        }
        if text[index] == "-" { index += 1 }
        guard index < text.count, ("0"..."9").contains(text[index]) else { throw failure("malformed number", at: start, length: 8) }
        if text[index] == "0" {
            index += 1
            if index < text.count, ("0"..."9").contains(text[index]) {
                throw failure("numbers must not have leading zeros", at: start, length: index - start + 1)
            }
        } else {
            _ = digits(&self)
        }
        if index < text.count, text[index] == "." {
            index += 1
            guard digits(&self) > 0 else { throw failure("malformed number", at: start, length: index - start) }
        }
        if index < text.count, text[index] == "e" || text[index] == "E" {
            index += 1
            if index < text.count, text[index] == "+" || text[index] == "-" { index += 1 }
            guard digits(&self) > 0 else { throw failure("malformed number", at: start, length: index - start) }
        }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: text[start..<index])
        return String(out)
    }

    private mutating func string() throws(SpecJSON.SyntaxError) -> String {
        let start = index
        index += 1
        var out = String.UnicodeScalarView()
        while true {
            guard index < text.count else { throw failure("the string is not closed", at: start, length: 16) }
            let s = text[index]
            switch s {
            case "\"":
                index += 1
                return String(out)
            case "\\":
                guard index + 1 < text.count else { throw failure("the string is not closed", at: start, length: 16) }
                let escape = text[index + 1]
                index += 2
                switch escape {
                case "\"": out.append("\"")
                case "\\": out.append("\\")
                case "/": out.append("/")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "n": out.append("\n")
                case "r": out.append("\r")
                case "t": out.append("\t")
                case "u": out.append(try unicodeEscape(at: index - 2))
                default: throw failure("invalid escape", at: index - 2, length: 2)
                }
            default:
                guard s.value >= 0x20 else { throw failure("control character in a string", at: index) }
                out.append(s)
                index += 1
            }
        }
    }

    /// `\uXXXX`, joining a surrogate pair; a lone surrogate is an error.
    private mutating func unicodeEscape(at escapeStart: Int) throws(SpecJSON.SyntaxError) -> Unicode.Scalar {
        let high = try hex4(escapeStart)
        if (0xD800...0xDBFF).contains(high) {
            guard index + 1 < text.count, text[index] == "\\", text[index + 1] == "u" else {
                throw failure("lone surrogate in \\u escape", at: escapeStart, length: 6)
            }
            index += 2
            let low = try hex4(escapeStart)
            guard (0xDC00...0xDFFF).contains(low) else { throw failure("lone surrogate in \\u escape", at: escapeStart, length: 12) }
            return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!
        }
        guard let scalar = Unicode.Scalar(high) else { throw failure("lone surrogate in \\u escape", at: escapeStart, length: 6) }
        return scalar
    }

    private mutating func hex4(_ escapeStart: Int) throws(SpecJSON.SyntaxError) -> UInt32 {
        guard index + 4 <= text.count else { throw failure("\\u needs four hex digits", at: escapeStart, length: 6) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let v = text[index].value
            let digit: UInt32
            switch v {
            case 0x30...0x39: digit = v - 0x30
            case 0x41...0x46: digit = v - 0x41 + 10
            case 0x61...0x66: digit = v - 0x61 + 10
            default: throw failure("\\u needs four hex digits", at: escapeStart, length: 6)
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}
