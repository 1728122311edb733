import Testing
import VigilCore

@Suite struct JSONTextTests {
    @Test func escapesQuotesBackslashesAndEveryControlCharacter() {
        #expect(JSONText.quoted("a\"b\\c") == #""a\"b\\c""#)
        #expect(JSONText.quoted("\n\r\t\u{08}\u{0C}") == #""\n\r\t\b\f""#)
        #expect(JSONText.quoted("\u{0}\u{1}\u{1F}") == #""\u0000\u0001\u001f""#)
        #expect(JSONText.quoted("") == #""""#)
    }

    @Test func escapesLineAndParagraphSeparatorsForJavaScriptReaders() {
        #expect(JSONText.quoted("a\u{2028}b\u{2029}c") == #""a\u2028b\u2029c""#)
        // Neighbours that share the lead bytes are left alone.
        #expect(JSONText.quoted("\u{2027}\u{202A}\u{20AC}") == "\"\u{2027}\u{202A}\u{20AC}\"")
    }

    @Test func keepsOtherUnicodeAsIs() {
        #expect(JSONText.quoted("Zürich 東京 🙂") == "\"Zürich 東京 🙂\"")
    }

    @Test func theByteStringAndStringFormsAgree() {
        let samples = ["plain", "q\"uote", "tab\tnl\n", "\u{2028}", "é\u{7F}\u{1}", "🙂\u{2029}🙂"]
        for sample in samples {
            var bytes: [UInt8] = Array("x".utf8)
            JSONText.appendQuoted(sample, to: &bytes)
            var text = "x"
            JSONText.appendQuoted(sample, to: &text)
            #expect(String(decoding: bytes, as: UTF8.self) == text)
            #expect(text == "x" + JSONText.quoted(sample))
        }
    }

    @Test func outputHasNoRawControlOrSeparatorCharacters() {
        let all = String(String.UnicodeScalarView((0..<0x80).compactMap(Unicode.Scalar.init) + ["\u{2028}", "\u{2029}"]))
        let quoted = JSONText.quoted(all)
        #expect(!quoted.unicodeScalars.contains { $0.value < 0x20 || $0 == "\u{2028}" || $0 == "\u{2029}" })
        #expect(quoted.hasPrefix("\"") && quoted.hasSuffix("\""))
    }
}

@Suite struct UTF8ValidationTests {
    @Test func acceptsWellFormedSequencesOfEachLength() {
        for text in ["a", "é", "€", "🙂"] {
            #expect(UTF8Validation.sequenceLength(Array(text.utf8), at: 0) == text.utf8.count)
        }
    }

    @Test(
        arguments: [
            [0xC0, 0xAF],  // overlong "/"
            [0xE0, 0x80, 0xAF],  // overlong
            [0xED, 0xA0, 0x80],  // surrogate U+D800
            [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
            [0x80],  // lone continuation
            [0xE2, 0x82],  // truncated
            [0xFF],
        ] as [[UInt8]])
    func rejectsIllFormedSequences(_ bytes: [UInt8]) {
        #expect(UTF8Validation.sequenceLength(bytes, at: 0) == nil)
    }

    @Test func readableTextKeepsUTF8AndShowsEveryOtherByte() {
        let bytes: [UInt8] = Array("ok é".utf8) + [0xFF, 0x00] + Array("€".utf8) + [0xE2, 0x82]
        #expect(UTF8Validation.readableText(bytes) == #"ok é\xff\x00€\xe2\x82"#)
    }
}
