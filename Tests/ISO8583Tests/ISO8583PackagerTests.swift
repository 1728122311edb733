import Foundation
import ISO8583
import Testing

@Suite struct ISO8583PackagerTests {
    @Test func shippedPackagerLoads() throws {
        let packager = try shippedPackager()
        #expect(packager.name == "iso87ascii")
        #expect(packager.lengthHeader == .binary2)
        #expect(packager.spec(2) == ISO8583FieldSpec(number: 2, type: .n, length: .llvar, max: 19, name: "Primary account number (PAN)"))
        #expect(packager.spec(43)?.max == 40)
        #expect(packager.spec(90)?.max == 42)
        #expect((2...128).allSatisfy { packager.spec($0) != nil })
    }

    @Test func everyProblemIsReportedWithItsJSONPath() {
        let text = #"""
            {"name": "", "length_header": "binary3", "bitmap": "hex", "binary": "hex", "colour": 1,
             "fields": [
               {"field": 2, "type": "nn", "length": "llvar", "max": 19},
               {"field": 3, "type": "n", "length": "llvar", "max": 120},
               {"field": 3, "type": "n", "length": "fixed", "max": 6},
               {"field": 1, "type": "b", "length": "fixed", "max": 8},
               {"field": 4, "type": "n", "length": "fixed"}
             ]}
            """#
        do {
            _ = try ISO8583Packager.load(contentsOf: Data(text.utf8), path: "Packagers/broken.json")
            Issue.record("a broken packager loaded")
        } catch {
            let lines = error.errors.map(\.description)
            #expect(lines.contains { $0.hasPrefix("Packagers/broken.json: colour: unknown key") })
            #expect(lines.contains { $0.hasPrefix("Packagers/broken.json: name: give the dialect a name") })
            #expect(lines.contains("Packagers/broken.json: length_header: \"binary3\" is not one of binary2, ascii4"))
            #expect(lines.contains("Packagers/broken.json: fields[0].type: \"nn\" is not one of n, an, ans, b, z"))
            #expect(lines.contains("Packagers/broken.json: fields[1].max: 120 is out of range for a llvar field: 1 to 99"))
            #expect(lines.contains { $0.hasPrefix("Packagers/broken.json: fields[3].field: 1 is not a data field") })
            #expect(lines.contains("Packagers/broken.json: fields[4].max: is missing; give a whole number"))
            #expect(lines.count == 7)
        }
    }

    @Test func duplicateFieldAndBadJSON() {
        let duplicate =
            #"{"name":"x","length_header":"ascii4","bitmap":"binary","binary":"raw","fields":[{"field":7,"type":"n","length":"fixed","max":10},{"field":7,"type":"n","length":"fixed","max":10}]}"#
        #expect(throws: ISO8583PackagerErrors.self) { try ISO8583Packager.load(contentsOf: Data(duplicate.utf8), path: "d.json") }
        do {
            _ = try ISO8583Packager.load(contentsOf: Data("{\"name\":".utf8), path: "cut.json")
        } catch {
            #expect(error.errors.first?.description.hasPrefix("cut.json: not valid JSON") == true)
        }
        do {
            _ = try ISO8583Packager.load(path: "/nonexistent/p.json")
        } catch {
            #expect(error.description.contains("cannot read the file"))
        }
    }

    @Test func asciiHeaderAndBinaryBitmapDialect() throws {
        let text =
            #"{"name":"b","length_header":"ascii4","bitmap":"binary","binary":"raw","fields":[{"field":11,"type":"n","length":"fixed","max":6}]}"#
        let packager = try ISO8583Packager.load(contentsOf: Data(text.utf8), path: "b.json")
        let message = ISO8583Message(mti: "0800", fields: [11: "000042"])
        let wire = try packager.encode(message)
        #expect(wire == Array("0018".utf8) + Array("0800".utf8) + [0, 0x20, 0, 0, 0, 0, 0, 0] + Array("000042".utf8))
        #expect(packager.bodyLength(header: wire.prefix(4)) == 18)
        #expect(try ISO8583Decoder(packager: packager).decode(body: wire.dropFirst(4)) == message)
    }
}
