import FeedProtocol
import ISO8583
import Testing
import VigilCore

@Suite struct ISO8583MapperTests {
    let now = RFC3339.parse("2026-12-01T12:00:00Z") ?? Timestamp(secondsSinceEpoch: 0)

    func request(_ text: String) throws -> ISO8583Message {
        try ISO8583Decoder(packager: try shippedPackager()).decode(body: body(frame(text)))
    }

    @Test func authorisationBecomesAFeedLineThatTheFeedDecoderAccepts() throws {
        let message = try request(Golden.authorisationRequest)
        #expect(ISO8583Mapper.kind(of: message.mti) == .transaction)
        let line = try ISO8583Mapper.line(for: message, now: now).get()
        let transaction = try FeedDecoder().decode(line, now: now)
        #expect(transaction.id == "8583:1201101530:TERM0001:000123:612345678901")
        #expect(transaction.timestamp == RFC3339.parse("2026-12-01T10:15:30Z"))
        #expect(transaction.amount.minorUnits == 12_540 && transaction.amount.currency.code == "EUR")
        #expect(transaction.cardID == "4111111111111111")  // the feed's PAN policy refuses or tokenizes it next
        #expect(transaction.accountID == "4111111111111111")
        #expect(transaction.merchantID == "MERCHANT0000001")
        #expect(transaction.mcc == "5411")
        #expect(transaction.country == "DE")
        #expect(transaction.channel == .cardPresent)
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.contains(#""iso8583":{"mti":"0100","processing_code":"000000","transmission_time":"1201101530","stan":"000123""#))
        #expect(text.contains(#""card_acceptor_name_location":"CORNER GROCERY           BERLIN       DE""#))
    }

    @Test func trackTwoGivesOnlyItsPAN() throws {
        var message = try request(Golden.authorisationRequest)
        message[2] = nil
        message[35] = Array("4111111111111111=28121010000000000000".utf8)
        let text = String(decoding: try ISO8583Mapper.line(for: message, now: now).get(), as: UTF8.self)
        #expect(text.contains(#""card_id":"4111111111111111""#))
        #expect(!text.contains("2812101"))
    }

    @Test func accountFromField102AndChannels() throws {
        var message = try request(Golden.authorisationRequest)
        message[102] = Array("ACC-42".utf8)
        message[22] = Array("812".utf8)
        var transaction = try FeedDecoder().decode(try ISO8583Mapper.line(for: message, now: now).get(), now: now)
        #expect(transaction.accountID == "ACC-42")
        #expect(transaction.channel == .cardNotPresent)
        message[3] = Array("010000".utf8)
        transaction = try FeedDecoder().decode(try ISO8583Mapper.line(for: message, now: now).get(), now: now)
        #expect(transaction.channel == .atm)
        message[3] = Array("400000".utf8)
        transaction = try FeedDecoder().decode(try ISO8583Mapper.line(for: message, now: now).get(), now: now)
        #expect(transaction.channel == .transfer)
    }

    @Test func missingAndBadFieldsAreNamed() throws {
        var message = try request(Golden.authorisationRequest)
        message[49] = Array("999".utf8)
        #expect(throws: FeedRejection.self) { try ISO8583Mapper.line(for: message, now: now).get() }
        if case .failure(let rejection) = ISO8583Mapper.line(for: message, now: now) {
            #expect(rejection.field == "iso8583.49")
            #expect(rejection.recordID == "8583:1201101530:TERM0001:000123:612345678901")
        }
        message = try request(Golden.authorisationRequest)
        message[11] = nil
        if case .failure(let rejection) = ISO8583Mapper.line(for: message, now: now) {
            #expect(rejection.code == .missingField)
            #expect(rejection.recordID == nil)
        } else {
            Issue.record("a request without a STAN was mapped")
        }
        message = try request(Golden.authorisationRequest)
        message[7] = Array("0231101530".utf8)
        if case .failure(let rejection) = ISO8583Mapper.line(for: message, now: now) {
            #expect(rejection.code == .invalidTimestamp)
        } else {
            Issue.record("31 February was accepted")
        }
    }

    @Test func transmissionTimeTakesTheNearestYear() {
        let newYear = RFC3339.parse("2027-01-01T00:00:10Z") ?? now
        #expect(ISO8583Mapper.transmissionTime(Array("1231235950".utf8), now: newYear) == RFC3339.parse("2026-12-31T23:59:50Z"))
        #expect(ISO8583Mapper.transmissionTime(Array("0101000005".utf8), now: newYear) == RFC3339.parse("2027-01-01T00:00:05Z"))
        #expect(ISO8583Mapper.transmissionTime(Array("1301000000".utf8), now: newYear) == nil)
    }

    @Test func reversalNamesItsOriginal() throws {
        let message = try request(Golden.reversal("0400"))
        #expect(ISO8583Mapper.kind(of: message.mti) == .reversal)
        let reversal = try ISO8583Mapper.reversal(from: message, now: now).get()
        #expect(reversal.originalID == "8583:1201101530:TERM0001:000123:612345678901")
        #expect(reversal.id == "8583:1201101731:TERM0001:000124:612345678901")
        #expect(reversal.amount?.minorUnits == 12_540 && reversal.amount?.currency.code == "EUR")
        #expect(reversal.reversedAt == RFC3339.parse("2026-12-01T10:17:31Z"))
        #expect(String(decoding: reversal.raw, as: UTF8.self).contains(#""original_data_elements":"0100000123"#))
    }

    @Test func kinds() {
        #expect(ISO8583Mapper.kind(of: Array("0800".utf8)) == .networkManagement)
        #expect(ISO8583Mapper.kind(of: Array("0201".utf8)) == .transaction)
        #expect(ISO8583Mapper.kind(of: Array("0421".utf8)) == .reversal)
        #expect(ISO8583Mapper.kind(of: Array("0110".utf8)) == .unsupported)
        #expect(ISO8583Mapper.kind(of: Array("0300".utf8)) == .unsupported)
    }

    @Test func responseCodesComeFromOnePlace() {
        var codes = ISO8583ResponseCodes()
        #expect(codes.code(for: .ack(id: "x", duplicate: false)) == "00")
        #expect(codes.code(for: .ack(id: "x", duplicate: true)) == "00")
        #expect(codes.code(for: .nack(FeedRejection(code: .invalidAmount, message: "m"))) == "30")
        #expect(codes.code(for: .nack(FeedRejection(code: .idConflict, message: "m"))) == "94")
        #expect(codes.code(for: .nack(FeedRejection(code: .storageRefused, message: "m"))) == "96")
        // Not stored because this node does not lead: retryable, never a format error.
        #expect(codes.code(for: .nack(.notLeader(leader: "b:7402"))) == "91")
        #expect(codes.code(for: .nack(.notLeader(leader: nil))) == "91")
        #expect(codes.code(for: .block) == "05")
        codes.block = "59"
        #expect(codes.code(for: .block) == "59")
        #expect(codes.validate() == nil)
        codes.formatError = "3"
        #expect(codes.validate()?.contains("format-error") == true)
    }

    @Test func numericCurrencies() {
        #expect(ISO4217Numeric.currency(numeric: "978")?.code == "EUR")
        #expect(ISO4217Numeric.currency(numeric: "392")?.exponent == 0)
        #expect(ISO4217Numeric.currency(numeric: "048")?.code == "BHD")
        #expect(ISO4217Numeric.numeric(alphabetic: "USD") == "840")
        #expect(ISO4217Numeric.currency(numeric: "000") == nil)
    }
}
