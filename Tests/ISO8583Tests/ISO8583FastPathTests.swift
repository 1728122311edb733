import FeedProtocol
import ISO8583
import Testing
import VigilCore

/// The shortcuts taken for throughput give exactly what the long way gives: the mapped
/// transaction is what its line decodes to, a response packed into a shared buffer is the
/// response packed alone, and a located field is the decoded one.
@Suite struct ISO8583FastPathTests {
    let now = RFC3339.parse("2026-12-01T12:00:00Z") ?? Timestamp(secondsSinceEpoch: 0)

    func request(_ text: String) throws -> ISO8583Message {
        try ISO8583Decoder(packager: try shippedPackager()).decode(body: body(frame(text)))
    }

    /// Variations the mapping treats differently: account from 102, track 2, no merchant, no
    /// country, other channels, a name that needs escaping, a yen amount.
    func variants() throws -> [ISO8583Message] {
        let base = try request(Golden.authorisationRequest)
        var out = [base, try request(Golden.financialRequest)]
        var message = base
        message[102] = Array("ACC-42".utf8)
        message[22] = Array("812".utf8)
        out.append(message)
        message = base
        message[2] = nil
        message[35] = Array("4111111111111111=28121010000000000000".utf8)
        message[42] = nil
        message[43] = Array("SHOP \"QUOTED\" \\ NAME     BERLIN       XX".utf8)
        message[3] = Array("010000".utf8)
        out.append(message)
        message = base
        message[49] = Array("392".utf8)
        message[4] = Array("000000012540".utf8)
        message[3] = Array("400000".utf8)
        out.append(message)
        return out
    }

    @Test func mappedTransactionIsWhatItsLineDecodesTo() throws {
        let decoder = FeedDecoder()
        for message in try variants() {
            let mapped = try ISO8583Mapper.map(message, now: now).get()
            #expect(try decoder.decode(mapped.line, now: now) == mapped.transaction)
            #expect(decoder.accepts(mapped.transaction, now: now))
            #expect(try ISO8583Mapper.line(for: message, now: now).get() == mapped.line)
        }
    }

    /// What the decoder would refuse is not accepted as it is, so the listener decodes the
    /// line and the refusal keeps its wording.
    @Test func recordsTheDecoderRefusesAreNotAccepted() throws {
        var message = try request(Golden.authorisationRequest)
        message[7] = Array("0301101530".utf8)  // three months ahead of `now`: beyond the future skew
        let mapped = try ISO8583Mapper.map(message, now: now).get()
        #expect(!FeedDecoder().accepts(mapped.transaction, now: now))
        #expect(throws: FeedRejection.self) { try FeedDecoder().decode(mapped.line, now: now) }

        message = try request(Golden.authorisationRequest)
        message[4] = Array("000000000000".utf8)  // a zero amount
        let zero = try ISO8583Mapper.map(message, now: now).get()
        #expect(!FeedDecoder().accepts(zero.transaction, now: now))

        var quoted = zero.transaction
        quoted.amount = Money(minorUnits: 100, currency: quoted.amount.currency)
        #expect(FeedDecoder().accepts(quoted, now: now))
        quoted.merchantID = "A\"B"
        #expect(!FeedDecoder().accepts(quoted, now: now))
        quoted.merchantID = nil
        quoted.ip = "203.0.113.5"
        #expect(!FeedDecoder().accepts(quoted, now: now))
    }

    @Test func encodingIntoABufferAppendsTheSameBytesOrNothing() throws {
        let packager = try shippedPackager()
        let message = try request(Golden.authorisationRequest)
        let response = try #require(ISO8583Mapper.response(to: message, code: "00"))
        var out: [UInt8] = [1, 2, 3]
        try packager.encode(response, into: &out)
        #expect(out == [1, 2, 3] + frame(Golden.authorisationResponse))
        var bad = response
        bad[39] = Array("0\u{7}".utf8)  // not allowed in an `an` field
        let before = out
        #expect(throws: ISO8583EncodeError.self) { try packager.encode(bad, into: &out) }
        #expect(out == before)
    }

    @Test func locatedFieldIsTheDecodedOne() throws {
        let packager = try shippedPackager()
        let decoder = ISO8583Decoder(packager: packager)
        for text in [Golden.authorisationResponse, Golden.financialResponse, Golden.echoResponse, Golden.reversalResponse("0410")] {
            let wire = body(frame(text))
            let message = try decoder.decode(body: wire)
            for field in [2, 11, 37, 39, 41, 42, 70, 90] {
                #expect(packager.locate(field: field, in: wire).map { Array(wire[$0]) } == message[field], "field \(field)")
            }
        }
        #expect(packager.locate(field: 39, in: body(frame("0210"))) == nil)
    }
}
