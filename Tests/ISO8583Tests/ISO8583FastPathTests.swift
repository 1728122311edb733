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

    /// `accepts` restates part of the decoder's checks; if it ever lets through what the
    /// decoder would refuse, or decode differently, a record would skip validation. On
    /// random values of every field the mapping reads (odd characters, lengths, amounts,
    /// times), whenever it accepts, the decoder decodes the stored line to the same
    /// transaction.
    @Test func acceptedOnlyWhatTheDecoderDecodesTheSame() throws {
        let base = try request(Golden.authorisationRequest)
        let decoder = FeedDecoder()
        var random = SplitMix(state: 20_261_202)
        let texts: [[UInt8]] = [
            Array("T1".utf8), Array("MERCHANT-1     ".utf8), Array("A\"B".utf8), Array("back\\slash".utf8), Array("tab\there".utf8),
            Array("  ".utf8), [], Array("caf\u{e9}".utf8), [0x7F, 0x41], Array(repeating: UInt8(ascii: "x"), count: 300), Array("5411".utf8),
            Array("54a1".utf8), Array("0000".utf8), Array("999999999999".utf8), Array("000000000001".utf8), Array("000000000000".utf8),
            Array("1201120000".utf8), Array("0301101530".utf8), Array("1301120000".utf8), Array("1131235959".utf8),
        ]
        let fields = [4, 7, 11, 18, 37, 41, 42, 43, 102]
        var accepted = 0
        for _ in 0..<3_000 {
            var message = base
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let field = fields.randomElement(using: &random)!
                var value = texts.randomElement(using: &random)!
                if field == 43 { value = Array("SHOP NAME                BERLIN       ".utf8.prefix(38)) + Array(value.prefix(2)) }
                message[field] = value.isEmpty && Bool.random(using: &random) ? nil : value
            }
            guard case .success(let mapped) = ISO8583Mapper.map(message, now: now), decoder.accepts(mapped.transaction, now: now) else { continue }
            accepted += 1
            #expect(try decoder.decode(mapped.line, now: now) == mapped.transaction, "\(String(decoding: mapped.line, as: UTF8.self))")
        }
        #expect(accepted > 100, "the random messages should mostly be acceptable ones")
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
