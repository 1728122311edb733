import Foundation
import ISO8583

/// The shipped packager file, read from the repository (as `vigil serve` does).
let packagerPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Packagers/iso87ascii.json").path

/// The shipped ISO87A dialect; a test fails (not crashes) if it does not load.
func shippedPackager() throws -> ISO8583Packager {
    try ISO8583Packager.load(path: packagerPath)
}

/// A frame: 2-byte big-endian length header, then `body` (ASCII text as written in the tests).
func frame(_ body: String) -> [UInt8] {
    let bytes = Array(body.utf8)
    return [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
}

/// The body of a frame (what the decoder takes).
func body(_ frame: [UInt8]) -> ArraySlice<UInt8> { frame.dropFirst(2) }

/// A deterministic generator for fuzzing (SplitMix64), so a failure can be replayed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Hand-written golden messages (bitmaps worked out by hand, see docs/iso8583.md).
enum Golden {
    static let acceptor = "CORNER GROCERY           BERLIN       DE"  // 25 name + 13 city + 2 country
    static let authorisationRequest =
        "0100" + "7238440108E08000" + "164111111111111111" + "000000" + "000000012540" + "1201101530" + "000123" + "111530" + "1201"
        + "5411" + "051" + "06123456" + "612345678901" + "TERM0001" + "MERCHANT0000001" + acceptor + "978"
    static let authorisationResponse =
        "0110" + "323800010AC08000" + "000000" + "000000012540" + "1201101530" + "000123" + "111530" + "1201" + "06123456"
        + "612345678901" + "00" + "TERM0001" + "MERCHANT0000001" + "978"
    static let financialRequest =
        "0200" + "7238440108E08000" + "164111111111111111" + "000000" + "000000012540" + "1201101530" + "000123" + "111530" + "1201"
        + "5411" + "071" + "06123456" + "612345678901" + "TERM0001" + "MERCHANT0000001" + acceptor + "978"
    static let financialResponse =
        "0210" + "323800010AC08000" + "000000" + "000000012540" + "1201101530" + "000123" + "111530" + "1201" + "06123456"
        + "612345678901" + "05" + "TERM0001" + "MERCHANT0000001" + "978"
    static let originalData = "0100" + "000123" + "1201101530" + "00000123456" + "00000000000"
    static func reversal(_ mti: String) -> String {
        mti + "B238000108C08000" + "0000004000000000" + "000000" + "000000012540" + "1201101731" + "000124" + "111731" + "1201"
            + "06123456" + "612345678901" + "TERM0001" + "MERCHANT0000001" + "978" + originalData
    }
    static func reversalResponse(_ mti: String) -> String {
        mti + "B23800010AC08000" + "0000004000000000" + "000000" + "000000012540" + "1201101731" + "000124" + "111731" + "1201"
            + "06123456" + "612345678901" + "00" + "TERM0001" + "MERCHANT0000001" + "978" + originalData
    }
    static let echoRequest = "0800" + "8220000000000000" + "0400000000000000" + "1201101530" + "000777" + "301"
    static let echoResponse = "0810" + "8220000002000000" + "0400000000000000" + "1201101530" + "000777" + "00" + "301"

    /// Published: the sample 0200 of github.com/patrickaburu1/ISO8583-PACK-UNPACK (README.md),
    /// fields 3, 4, 7, 11, 41, 49 in ISO 8583:1987 ASCII.
    static let publishedFinancial = "02003220000000808000000010000000001500120604120000000112340001840"
    /// Published: the ASCII 0800 of github.com/sitb-software/jsPOS (`__tests__/index.js`), packed
    /// there with its ISO8583-87APackager (a port of jPOS's ISO87APackager): fields 11, 32,
    /// 41, 42, 60, 62, 63.
    static let publishedNetwork =
        "08000020000100C000160001050814002244000007641110000011110020110000000100306708THFDD30904M08915C0900567100016021V0:TestField62:0.009;09Z31000000003001"
}
