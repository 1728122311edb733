import Foundation
import RuleLanguage
import Testing

/// Which windows keep their state across a reload: the one check every reload path uses.
@Suite struct WindowSpecIdentityTests {
    static let v1 = """
        window cnt = count by card_id over 10m
        window total = sum amount_base by account_id over 1h
        rule r {
          require card_id, device_id
          when window.cnt > 0 and window.total > 0
          severity low
          score 1
        }
        """

    @Test func anUnchangedWindowKeepsItsState() throws {
        let a = try #require(Support.compile(Self.v1))
        let b = try #require(Support.compile(Self.v1))
        #expect(zip(b.windows, a.windows).allSatisfy { $0.keepsState(of: $1) })
    }

    @Test func aChangedDefinitionStartsEmpty() throws {
        let a = try #require(Support.compile(Self.v1))
        let b = try #require(Support.compile(Self.v1.replacingOccurrences(of: "over 1h", with: "over 2h")))
        let total = try #require(b.window(named: "total"))
        let old = try #require(a.window(named: "total"))
        #expect(!total.keepsState(of: old))
        #expect(try #require(b.window(named: "cnt")).keepsState(of: try #require(a.window(named: "cnt"))))
    }

    @Test func aRenamedOrMovedWindowStartsEmpty() throws {
        let a = try #require(Support.compile(Self.v1))
        let renamed = try #require(Support.compile(Self.v1.replacingOccurrences(of: "cnt", with: "n")))
        #expect(!(try #require(renamed.window(named: "n"))).keepsState(of: try #require(a.window(named: "cnt"))))
        // Same definition, another slot: state built for the old slot would write to the wrong one.
        let moved = try #require(
            Support.compile(
                "window extra = count by device_id over 5m\n"
                    + Self.v1.replacingOccurrences(of: "when window.cnt", with: "when window.extra >= 0 and window.cnt")))
        let cnt = try #require(moved.window(named: "cnt"))
        let old = try #require(a.window(named: "cnt"))
        #expect(cnt.slot != old.slot)
        #expect(!cnt.keepsState(of: old))
    }
}
