import ISO8583
import Testing

@Suite struct ISO8583GoldenTests {
    @Test func publishedFinancialRequestDecodesAndPacksByteForByte() throws {
        let packager = try shippedPackager()
        let wire = frame(Golden.publishedFinancial)
        let message = try ISO8583Decoder(packager: packager).decode(body: body(wire))
        #expect(message.mtiText == "0200")
        #expect(message.presentFields == [3, 4, 7, 11, 41, 49])
        #expect(message.text(3) == "000010")
        #expect(message.text(4) == "000000001500")
        #expect(message.text(7) == "1206041200")
        #expect(message.text(11) == "000001")
        #expect(message.text(41) == "12340001")
        #expect(message.text(49) == "840")
        #expect(try packager.encode(message) == wire)
    }

    @Test func publishedNetworkMessageDecodesAndPacksByteForByte() throws {
        let packager = try shippedPackager()
        let wire = frame(Golden.publishedNetwork)
        let message = try ISO8583Decoder(packager: packager).decode(body: body(wire))
        #expect(message.mtiText == "0800")
        #expect(message.presentFields == [11, 32, 41, 42, 60, 62, 63])
        #expect(message.text(32) == "14002244")
        #expect(message.text(42) == "111000001111002")
        #expect(message.text(60) == "00000001003")
        #expect(message.text(62) == "08THFDD30904M08915C0900567100016021V0:TestField62:0.009;09Z31000000")
        #expect(message.text(63) == "001")
        #expect(try packager.encode(message) == wire)
    }

    /// Each request decodes, and the response Vigil builds for it is byte-exact.
    @Test(arguments: [
        (Golden.authorisationRequest, Golden.authorisationResponse, "00"),
        (Golden.financialRequest, Golden.financialResponse, "05"),
        (Golden.reversal("0400"), Golden.reversalResponse("0410"), "00"),
        (Golden.reversal("0420"), Golden.reversalResponse("0430"), "00"),
        (Golden.echoRequest, Golden.echoResponse, "00"),
    ])
    func responsesAreByteExact(request: String, response: String, code: String) throws {
        let packager = try shippedPackager()
        let decoder = ISO8583Decoder(packager: packager)
        let message = try decoder.decode(body: body(frame(request)))
        #expect(try packager.encode(message) == frame(request))
        let answer = try #require(ISO8583Mapper.response(to: message, code: code))
        #expect(try packager.encode(answer) == frame(response))
        // And the response itself decodes to what was built.
        #expect(try decoder.decode(body: body(frame(response))) == answer)
    }

    @Test func responsesNeverEchoCardData() throws {
        let packager = try shippedPackager()
        let message = try ISO8583Decoder(packager: packager).decode(body: body(frame(Golden.authorisationRequest)))
        let answer = try #require(ISO8583Mapper.response(to: message, code: "00"))
        #expect(answer[2] == nil)
        #expect(!String(decoding: try packager.encode(answer), as: UTF8.self).contains("4111111111111111"))
    }

    @Test func responseMTIs() {
        let pairs = [("0100", "0110"), ("0101", "0110"), ("0200", "0210"), ("0400", "0410"), ("0401", "0410"), ("0420", "0430"), ("0800", "0810")]
        for (request, response) in pairs {
            #expect(ISO8583Mapper.responseMTI(for: Array(request.utf8)) == Array(response.utf8))
        }
        #expect(ISO8583Mapper.responseMTI(for: Array("0110".utf8)) == nil)
    }

    @Test func binaryFieldsTravelAsHexAndASCIIHeadersWork() throws {
        let packager = try shippedPackager()
        var message = ISO8583Message(mti: "0800", fields: [11: "000001"])
        message[52] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF]
        let wire = try packager.encode(message)
        #expect(String(decoding: wire.dropFirst(2), as: UTF8.self) == "0800" + "0020000000001000" + "000001" + "0123456789ABCDEF")
        #expect(try ISO8583Decoder(packager: packager).decode(body: wire.dropFirst(2)) == message)
    }
}
