import Foundation
import ISO8583
import Testing

@Suite struct ISO8583DecodeErrorTests {
    func decodeError(_ text: String) throws -> ISO8583DecodeError {
        let decoder = ISO8583Decoder(packager: try shippedPackager())
        do {
            _ = try decoder.decode(body: body(frame(text)))
        } catch {
            return error
        }
        Issue.record("decoded without an error: \(text)")
        throw CancellationError()
    }

    @Test func badBitmapNamesTheByte() throws {
        let error = try decodeError("0100" + "72384401G8E08000" + "16411111")
        #expect(error.code == .badBitmap)
        #expect(error.offset == 2 + 4 + 8)
        #expect(error.partial?.mtiText == "0100")
        #expect(!error.correlationReadable)
    }

    @Test func badMTIIsNotAnswerable() throws {
        let error = try decodeError("01X0" + "0000000000000000")
        #expect(error.code == .badMTI)
        #expect(error.partial == nil)
        #expect(!error.correlationReadable)
    }

    @Test func variableFieldTooLongNamesFieldAndOffset() throws {
        // Field 2 claims 25 digits; the dialect allows 19.
        let error = try decodeError("0100" + "4000000000000000" + "25" + String(repeating: "4", count: 25))
        #expect(error.code == .fieldTooLong)
        #expect(error.field == 2)
        #expect(error.offset == 2 + 4 + 16)
        #expect(error.message.contains("at most 19"))
    }

    @Test func lengthHeaderThatCountsTooFewBytes() throws {
        // The header is computed over the text, so drop the last 2 characters of field 49
        // from the body: the fields need more than the header counted.
        let text = String(Golden.authorisationRequest.dropLast(2))
        let error = try decodeError(text)
        #expect(error.code == .lengthHeaderMismatch)
        #expect(error.field == 49)
        // Everything up to field 49 was read: the sender can be answered.
        #expect(error.correlationReadable)
        #expect(error.partial?.text(11) == "000123")
        #expect(error.partial?.text(41) == "TERM0001")
    }

    @Test func lengthHeaderThatCountsTooManyBytes() throws {
        let error = try decodeError(Golden.authorisationRequest + "XYZ")
        #expect(error.code == .lengthHeaderMismatch)
        #expect(error.message.contains("3 bytes are left over"))
        #expect(error.correlationReadable)
    }

    @Test func nonNumericAmountStillLeavesCorrelationReadable() throws {
        let text = Golden.authorisationRequest.replacingOccurrences(of: "000000012540", with: "0000000125A0")
        let error = try decodeError(text)
        #expect(error.code == .invalidCharacter)
        #expect(error.field == 4)
        #expect(error.offset == 2 + 4 + 16 + 18 + 6 + 10)
        #expect(error.correlationReadable)
        #expect(error.partial?.text(37) == "612345678901")
    }

    @Test func nonNumericSTANIsNotReadable() throws {
        let text = Golden.authorisationRequest.replacingOccurrences(of: "000123", with: "0001X3")
        let error = try decodeError(text)
        #expect(error.code == .invalidCharacter)
        #expect(error.field == 11)
        #expect(!error.correlationReadable)
    }

    @Test func truncatedBeforeTheBitmapEnds() throws {
        let error = try decodeError("0100" + "7238")
        #expect(error.code == .truncated)
    }

    @Test func unknownFieldIsNamed() throws {
        // A dialect without field 3 meets a message with it.
        let packager = try ISO8583Packager.load(
            contentsOf: Data(
                #"{"name":"tiny","length_header":"binary2","bitmap":"hex","binary":"hex","fields":[{"field":2,"type":"n","length":"llvar","max":19}]}"#
                    .utf8),
            path: "tiny.json")
        do {
            _ = try ISO8583Decoder(packager: packager).decode(body: body(frame("0100" + "2000000000000000" + "000000")))
            Issue.record("decoded")
        } catch {
            #expect(error.code == .unknownField)
            #expect(error.field == 3)
        }
    }

    @Test func redactionMasksCardDataEvenInAMalformedFrame() throws {
        let decoder = ISO8583Decoder(packager: try shippedPackager())
        let good = decoder.redacted(frame: frame(Golden.authorisationRequest))
        let text = String(decoding: good, as: UTF8.self)
        #expect(text.contains("411111******1111"))
        #expect(!text.contains("4111111111111111"))
        // Broken after field 2 is read: field 2 masked by position, the rest by digit runs.
        let broken = decoder.redacted(frame: frame("0100" + "4000000100000000" + "164111111111111111" + "X5500005555555559"))
        let brokenText = String(decoding: broken, as: UTF8.self)
        #expect(!brokenText.contains("4111111111111111"))
        #expect(!brokenText.contains("5500005555555559"))
    }
}

@Suite struct ISO8583FuzzTests {
    /// Random bytes and mutations of the golden frames: the decoder always returns or
    /// throws (never traps, never loops), and whatever it accepts packs again.
    @Test func randomAndMutatedFramesNeverCrash() throws {
        let packager = try shippedPackager()
        let decoder = ISO8583Decoder(packager: packager)
        var random = SplitMix(state: 8583)
        let seeds = [
            Golden.authorisationRequest, Golden.financialRequest, Golden.reversal("0400"), Golden.echoRequest, Golden.publishedNetwork,
        ].map { Array($0.utf8) }
        var accepted = 0
        var refused = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 4 == 0 {
                bytes = (0..<Int.random(in: 0..<300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            } else {
                bytes = seeds[round % seeds.count]
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    switch Int.random(in: 0..<4, using: &random) {
                    case 0 where !bytes.isEmpty: bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                    case 1 where !bytes.isEmpty: bytes.removeLast(Int.random(in: 1...min(20, bytes.count), using: &random))
                    case 2: bytes.insert(UInt8.random(in: 0x30...0x39, using: &random), at: Int.random(in: 0...bytes.count, using: &random))
                    default: bytes.append(contentsOf: [0x30, 0x39])
                    }
                }
            }
            do {
                let message = try decoder.decode(body: bytes)
                accepted += 1
                _ = try? packager.encode(message)
            } catch {
                refused += 1
                #expect(error.offset >= 2 && error.offset <= bytes.count + 2)
                _ = decoder.redacted(frame: [0, 0] + bytes)
            }
        }
        #expect(accepted + refused == 20_000)
        #expect(refused > 10_000)
    }
}
