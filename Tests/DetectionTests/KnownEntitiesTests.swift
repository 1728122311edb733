import Detection
import Testing

@Suite("An account's known devices, cards, countries and merchants as fingerprints")
struct KnownEntitiesTests {
    @Test("the fingerprint is FNV-1a 64 without its top two bits: the same in every process, as checkpoints need")
    func stable() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (the reference test vector).
        let mask: UInt64 = (1 << 62) - 1
        let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
        #expect(KnownEntities.fingerprint("a") == 0x2f63_dc4c_8601_ec8c)
        #expect(KnownEntities.fingerprint("") == offsetBasis & mask)
    }

    @Test("ids of the shapes feeds use do not share fingerprints")
    func noCollisions() {
        var seen: [UInt64: String] = [:]
        for account in 0..<20_000 {
            let ids = [
                "acc-\(account)", "card-\(account)-1", "card-\(account)-2", "dev-\(account)-1",
                "dev-x\(account)-\(account % 97)", "m-\(account)",
            ]
            for id in ids {
                let f = KnownEntities.fingerprint(id)
                #expect(seen[f] == nil || seen[f] == id, "\(id) and \(seen[f] ?? "") share a fingerprint")
                seen[f] = id
            }
        }
        #expect(seen.count == 120_000, "every id distinct, every fingerprint distinct")
    }

    @Test("each kind is its own set, bounded, the least recently used dropped; using an id again keeps it")
    func leastRecentlyUsed() {
        var known = KnownEntities()
        known.remember(.device, "d-0")
        #expect(known.contains(.device, "d-0"))
        #expect(!known.contains(.card, "d-0"))
        #expect(!known.contains(.device, "d-1"))
        for i in 1..<KnownEntities.cap { known.remember(.device, "d-\(i)") }
        known.remember(.merchant, "m-1")
        known.remember(.device, "d-0")  // used again: now the most recent
        known.remember(.device, "d-new")  // one over the cap: d-1, the least recently used, goes
        #expect(known.count(.device) == KnownEntities.cap)
        #expect(known.contains(.device, "d-0"))
        #expect(!known.contains(.device, "d-1"))
        #expect(known.contains(.device, "d-2"))
        #expect(known.contains(.merchant, "m-1"), "another kind's cap does not evict it")
        #expect(known.fingerprints(.device).last == KnownEntities.fingerprint("d-new"))
    }

    @Test("equal when each kind holds the same ids in the same order, however kinds interleave")
    func equality() {
        var a = KnownEntities()
        a.remember(.device, "d")
        a.remember(.card, "c")
        var b = KnownEntities()
        b.remember(.card, "c")
        b.remember(.device, "d")
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        b.remember(.card, "c2")
        #expect(a != b)
        var c = KnownEntities()
        c.remember(.card, "c2")
        c.remember(.card, "c")
        var d = KnownEntities()
        d.remember(.card, "c")
        d.remember(.card, "c2")
        #expect(c != d, "the order within a kind is which is dropped first")
    }
}
