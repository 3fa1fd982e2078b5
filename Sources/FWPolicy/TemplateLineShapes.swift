import FWTemplate

/// The shapes of the output lines a set of templates can produce, to check that every line of a rendered file
/// comes from one template line: that line's literal text in order, with holes where its tags are. A hole holds
/// rule-safe characters (all that interpolation may insert) and the literal text of the sections on that line,
/// which may repeat or vanish.
///
/// A template line holding only section, comment or partial tags produces no line of its own (Mustache removes
/// standalone tags) and has no shape; the partial's lines have theirs. Templates are read with the default
/// `{{ }}` delimiters, which fwctl's templates keep.
public struct TemplateLineShapes: Sendable {
    enum Element: Sendable, Equatable {
        case literal([UInt8])
        case hole
    }

    struct Shape: Sendable {
        var elements: [Element]
        /// The bytes a hole may hold.
        var fill: [Bool]
    }

    private var exact: Set<[UInt8]> = []
    private var shapes: [Shape] = []

    /// Shapes of every line of `templates` (the texts of the template files).
    public init(templates: [String]) {
        for text in templates {
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                addShape(of: Array(line.utf8))
            }
        }
    }

    /// True when some template line can produce `line` (without its line feed).
    public func accepts<C: Collection>(_ line: C) -> Bool where C.Element == UInt8 {
        let bytes = Array(line)
        if exact.contains(bytes) { return true }
        return shapes.contains { Self.matches(bytes, $0) }
    }

    /// The first line of `bytes` that no template line can produce, or nil.
    public func firstForeignLine(in bytes: [UInt8]) -> String? {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        if bytes.last == 0x0A { lines.removeLast() }
        for line in lines where !accepts(line) {
            return String(decoding: line, as: UTF8.self)
        }
        return nil
    }

    private mutating func addShape(of line: [UInt8]) {
        var elements: [Element] = []
        var literal: [UInt8] = []
        var fill = [Bool](repeating: false, count: 256)
        for byte in 0...255 where RuleSafety.isAllowed(UInt8(byte)) { fill[byte] = true }
        var depth = 0
        var producesText = false
        var sawTag = false
        func hole() {
            if !literal.isEmpty { elements.append(.literal(literal)); literal = [] }
            if elements.last != .hole { elements.append(.hole) }
        }
        var index = 0
        while index < line.count {
            if line[index] == 0x7B, index + 2 < line.count, line[index + 1] == 0x7B,
               let close = Self.find(in: line, from: index + 2) {
                var end = close + 2
                if line[index + 2] == 0x7B, end < line.count, line[end] == 0x7D { end += 1 }  // {{{raw}}}
                sawTag = true
                switch line[index + 2] {
                case UInt8(ascii: "#"), UInt8(ascii: "^"):
                    if depth == 0 { hole() }
                    depth += 1
                case UInt8(ascii: "/"):
                    depth = max(0, depth - 1)
                case UInt8(ascii: "!"), UInt8(ascii: ">"):
                    break
                default:
                    producesText = true
                    if depth == 0 { hole() }
                }
                index = end
                continue
            }
            if depth > 0 {
                fill[Int(line[index])] = true
                producesText = true
            } else {
                literal.append(line[index])
                if line[index] != 0x20 && line[index] != 0x09 { producesText = true }
            }
            index += 1
        }
        guard sawTag else {
            exact.insert(line)
            return
        }
        guard producesText else { return }  // standalone tags: no line in the output
        if !literal.isEmpty { elements.append(.literal(literal)) }
        shapes.append(Shape(elements: elements, fill: fill))
    }

    /// The index of the next `}}` at or after `start`.
    private static func find(in bytes: [UInt8], from start: Int) -> Int? {
        var i = start
        while i + 1 < bytes.count {
            if bytes[i] == 0x7D && bytes[i + 1] == 0x7D { return i }
            i += 1
        }
        return nil
    }

    /// Each (element, position) state is tried at most once, so a line costs at most elements x length steps
    /// plus the hole scans.
    static func matches(_ line: [UInt8], _ shape: Shape) -> Bool {
        var failed = Set<Int>()
        func match(_ element: Int, _ position: Int) -> Bool {
            if element == shape.elements.count { return position == line.count }
            let key = element &* (line.count + 1) &+ position
            if failed.contains(key) { return false }
            let result: Bool
            switch shape.elements[element] {
            case .literal(let text):
                result = position + text.count <= line.count
                    && line[position..<(position + text.count)].elementsEqual(text)
                    && match(element + 1, position + text.count)
            case .hole:
                var end = position
                var found = match(element + 1, end)
                while !found && end < line.count && shape.fill[Int(line[end])] {
                    end += 1
                    found = match(element + 1, end)
                }
                result = found
            }
            if !result { failed.insert(key) }
            return result
        }
        return match(0, 0)
    }
}
