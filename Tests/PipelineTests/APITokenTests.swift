import Access
import Foundation
import Testing

@Suite("API tokens and roles (no database)")
struct APITokenTests {
    @Test("a token is vgl_ + 32 random bytes in base64url; its digest is SHA-256 hex; comparison needs every byte equal")
    func tokenShape() throws {
        let tokens = (0..<64).map { _ in APIToken.generate().text }
        #expect(Set(tokens).count == tokens.count)
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for token in tokens {
            #expect(token.hasPrefix("vgl_") && token.count == 47, "\(token)")
            #expect(token.dropFirst(4).allSatisfy { alphabet.contains($0) }, "\(token)")
        }
        // Known SHA-256 of "abc".
        #expect(APIToken.digest(of: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let digest = APIToken.digest(of: try #require(tokens.first))
        #expect(APIToken.digestsEqual(digest, digest))
        var last = Array(digest)
        last[63] = last[63] == "0" ? "1" : "0"
        #expect(!APIToken.digestsEqual(digest, String(last)))
        #expect(!APIToken.digestsEqual(digest, String(digest.dropLast())))
    }

    @Test("roles are ordered viewer < analyst < admin")
    func roleOrder() {
        #expect(Role.viewer < .analyst && Role.analyst < .admin)
        #expect(Role.allCases.sorted() == [.viewer, .analyst, .admin])
        #expect(Role(rawValue: "root") == nil)
    }
}
