import Foundation

/// Cuts a long text into the pieces a job synthesizes one by one, as GPT-SoVITS users expect (its `cut5`, and the
/// advice of GPT-SoVITS #858: long text unsplit repeats or drops sentences): at the end of each sentence in any
/// supported language, never inside a word, and no piece longer than the engine takes.
///
/// - A sentence ends at `. ! ? ;` followed by a space or the end (so `3.14` does not end one, nor the period of an
///   abbreviation such as `e.g.`, `U.S.`, `Dr.` or an initial), or
///   at `。 ！ ？ ； …` whatever follows (Chinese and Japanese put no space after them). Closing quotes and brackets
///   right after the mark stay with the sentence.
/// - `paragraph` cuts at blank lines, and cuts a paragraph longer than the limit into sentences.
/// - A sentence longer than the limit is cut at its last clause mark (`, ， 、 : ：`) within the limit, else at its
///   last space, else (a run of CJK or one very long word) at the limit, on a character boundary.
public struct TextSplitter: Sendable {
    public enum Unit: String, Sendable, CaseIterable {
        case sentence, paragraph
    }

    public let maxCharacters: Int

    public init(maxCharacters: Int) {
        precondition(maxCharacters > 0)
        self.maxCharacters = maxCharacters
    }

    static let asciiEnds: Set<Character> = [".", "!", "?", ";"]
    static let wideEnds: Set<Character> = ["。", "！", "？", "；", "…", "｡", "．"]
    static let closers: Set<Character> = ["\"", "'", ")", "]", "}", "”", "’", "」", "』", "）", "】", "》", "〉", "»"]
    static let abbreviations: Set<String> = ["mr", "mrs", "ms", "dr", "prof", "st", "vs", "jr", "sr", "no", "fig", "approx"]
    static let clauseMarks: Set<Character> = [",", "，", "、", ":", "：", "﹐", "､"]

    public func pieces(_ text: String, by unit: Unit) -> [String] {
        switch unit {
        case .sentence:
            return Self.sentences(text).flatMap(limit)
        case .paragraph:
            return Self.paragraphs(text).flatMap { paragraph in
                paragraph.count <= maxCharacters ? [paragraph] : Self.sentences(paragraph).flatMap(limit)
            }
        }
    }

    /// Blank-line separated blocks, each with its lines joined by single spaces.
    static func paragraphs(_ text: String) -> [String] {
        var out: [String] = []
        var lines: [Substring] = []
        func flush() {
            let joined = lines.map { $0.trimmed }.filter { !$0.isEmpty }.joined(separator: " ")
            if !joined.isEmpty { out.append(joined) }
            lines.removeAll()
        }
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            if line.allSatisfy(\.isBlank) { flush() } else { lines.append(line) }
        }
        flush()
        return out
    }

    static func sentences(_ text: String) -> [String] {
        let characters = Array(text)
        var out: [String] = []
        var start = 0
        var i = 0
        func cut(at end: Int) {
            let piece = String(characters[start..<end]).trimmed
            if !piece.isEmpty {
                // Marks alone ("...", "」") belong to the sentence before them.
                if piece.allSatisfy({ asciiEnds.contains($0) || wideEnds.contains($0) || closers.contains($0) }), let last = out.popLast() {
                    out.append(last + piece)
                } else {
                    out.append(piece.replacingNewlinesWithSpaces)
                }
            }
            start = end
        }
        // "e.g.", "U.S.", "Dr." or an initial ("J. R. Tolkien"): the period belongs to the word.
        func abbreviation(before period: Int) -> Bool {
            var first = period
            while first > 0, !characters[first - 1].isWhitespace { first -= 1 }
            let word = characters[first..<period]
            if word.contains(".") { return true }
            if word.count == 1, word.first?.isUppercase == true { return true }
            return abbreviations.contains(String(word).lowercased())
        }
        while i < characters.count {
            let c = characters[i]
            if wideEnds.contains(c) || asciiEnds.contains(c) {
                var end = i + 1
                while end < characters.count, wideEnds.contains(characters[end]) || asciiEnds.contains(characters[end]) { end += 1 }
                while end < characters.count, closers.contains(characters[end]) { end += 1 }
                if wideEnds.contains(c) || (end == characters.count || characters[end].isWhitespace) && !(c == "." && abbreviation(before: i)) {
                    cut(at: end)
                    i = end
                    continue
                }
                i = end
                continue
            }
            i += 1
        }
        cut(at: characters.count)
        return out
    }

    /// `sentence` itself, or cut into pieces of at most `maxCharacters`.
    func limit(_ sentence: String) -> [String] {
        var rest = Array(sentence)
        var out: [String] = []
        while rest.count > maxCharacters {
            let window = rest[..<(maxCharacters + 1)]
            // A clause mark in the second half of the window, else the last space, else any clause mark, else the limit.
            let mark = window.dropLast().lastIndex(where: Self.clauseMarks.contains).map { $0 + 1 }
            let space = window.lastIndex(where: \.isBlank).flatMap { $0 > 0 ? $0 : nil }
            let end = mark.flatMap { $0 > maxCharacters / 2 ? $0 : nil } ?? space ?? mark ?? maxCharacters
            let piece = String(rest[..<end]).trimmed
            if !piece.isEmpty { out.append(piece) }
            rest = Array(rest[end...].drop(while: \.isBlank))
        }
        let last = String(rest).trimmed
        if !last.isEmpty { out.append(last) }
        return out
    }
}

extension Character {
    /// White space only: a space that a combining mark follows is one `Character` whose `isWhitespace` is true, and
    /// dropping it would drop the mark.
    var isBlank: Bool { unicodeScalars.allSatisfy(\.properties.isWhitespace) }
}

extension StringProtocol {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }

    /// Nothing but white space (or nothing).
    var isBlank: Bool { allSatisfy(\.isBlank) }

    /// The lines joined by single spaces (a piece of speech is one line).
    var replacingNewlinesWithSpaces: String {
        guard contains(where: \.isNewline) else { return String(self) }
        return split(whereSeparator: \.isNewline).map { $0.trimmed }.filter { !$0.isEmpty }.joined(separator: " ")
    }
}
