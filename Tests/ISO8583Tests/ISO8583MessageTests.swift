import ISO8583
import Testing

/// A message is its MTI and fields, whatever order they were set in and however often: its
/// one buffer and spans are never seen from outside.
@Suite struct ISO8583MessageTests {
    @Test("fields set in any order, replaced or removed read back as set, ascending, and compare and hash by value")
    func fieldsByValue() throws {
        var ascending = ISO8583Message(mti: Array("0200".utf8))
        for (number, text) in [(2, "4000001234567899"), (11, "000042"), (39, "00"), (64, "ABCDEF01"), (65, "X"), (102, "acc-1"), (128, "M")] {
            ascending[number] = Array(text.utf8)
        }
        // The same fields, set from the end, with values replaced and a field removed on the way.
        var shuffled = ISO8583Message(mti: Array("0200".utf8))
        shuffled.set(128, "M".utf8)
        shuffled.set(39, "05".utf8)
        shuffled.set(102, "acc-1".utf8)
        shuffled.set(7, "1201120000".utf8)
        shuffled.set(65, "X".utf8)
        shuffled.set(11, "000042".utf8)
        shuffled.set(64, "ABCDEF01".utf8)
        shuffled.set(2, "4000001234567899".utf8)
        shuffled[39] = Array("00".utf8)
        shuffled[7] = nil
        #expect(shuffled.presentFields == [2, 11, 39, 64, 65, 102, 128])
        #expect(shuffled == ascending)
        #expect(shuffled.hashValue == ascending.hashValue)
        #expect(shuffled[39] == Array("00".utf8))
        #expect(shuffled.slice(102).map(Array.init) == Array("acc-1".utf8))
        #expect(shuffled[7] == nil && shuffled[1] == nil && shuffled[129] == nil && shuffled[0] == nil)
        var seen: [Int] = []
        shuffled.forEachField { number, value in
            seen.append(number)
            #expect(Array(value) == ascending[number])
        }
        #expect(seen == ascending.presentFields)
        // An empty value is present; a different value, MTI or field set is another message.
        var empty = ascending
        empty.set(48, [UInt8]())
        #expect(empty[48] == [] && empty.presentFields.contains(48) && empty != ascending)
        var other = ascending
        other[11] = Array("000043".utf8)
        #expect(other != ascending)
        other = ascending
        other.mti = Array("0210".utf8)
        #expect(other != ascending)
        #expect(ISO8583Message(mti: "0800", fields: [70: "301"]) != ISO8583Message(mti: "0800", fields: [71: "301"]))
    }

    @Test("the bitmaps a message packs with name its fields bit by bit: field 2 right after the secondary bit, 65 first of the second")
    func bitmapsFollowTheFields() throws {
        let packager = try shippedPackager()
        for fields in [[2], [64], [2, 3, 64], [65], [128], [2, 65, 128], [7, 11, 39, 41, 70, 90]] {
            var message = ISO8583Message(mti: Array("0800".utf8))
            for number in fields { message[number] = Array(String(repeating: "1", count: try #require(packager.spec(number)).max).utf8) }
            let decoded = try ISO8583Decoder(packager: packager).decode(body: packager.encode(message).dropFirst(packager.headerSize))
            #expect(decoded == message, "\(fields)")
            #expect(decoded.presentFields == fields)
        }
    }
}
