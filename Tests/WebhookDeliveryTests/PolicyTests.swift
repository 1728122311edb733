import Foundation
import Testing
import VigilCore

@testable import WebhookDelivery

#if canImport(Glibc)
import Glibc
#endif

@Suite("Delivery decisions (pure, fixed inputs)")
struct PolicyTests {
    let policy = DeliveryPolicy(schedule: .standard, disableAfter: .seconds(3600))

    @Test func standardScheduleHasTenAttemptsOverAboutThreeDays() {
        let schedule = RetrySchedule.standard
        #expect(schedule.maxAttempts == 10)
        let total = (1..<10).compactMap { schedule.delay(afterAttempt: $0, unit: 0.5) }.reduce(Duration.zero, +)
        let expected: Int64 = 5 + 300 + 1800 + 7200 + 18_000 + 36_000 + 50_400 + 72_000 + 86_400
        #expect(total == .seconds(expected))
        #expect(schedule.delay(afterAttempt: 10, unit: 0.5) == nil)
    }

    @Test func jitterSpreadsTheDelayByTheConfiguredFraction() {
        let schedule = RetrySchedule(delays: [.zero, .seconds(100)], jitter: 0.2)
        #expect(schedule.delay(afterAttempt: 1, unit: 0) == .seconds(80))
        #expect(schedule.delay(afterAttempt: 1, unit: 0.5) == .seconds(100))
        #expect(schedule.delay(afterAttempt: 1, unit: 1) == .seconds(120))
    }

    @Test func successIsDeliveredAndHealthy() {
        let decision = policy.decide(attempt: 3, outcome: .response(status: 204, retryAfter: nil), failingFor: .seconds(99_999), jitterUnit: 0.5)
        #expect(decision == .init(message: .delivered, endpoint: .healthy))
    }

    @Test(arguments: [
        DeliveryOutcome.response(status: 500, retryAfter: nil), .response(status: 301, retryAfter: nil), .response(status: 404, retryAfter: nil),
        .timeout, .transportError("connection refused"), .refused("loopback"),
    ])
    func failuresRetryOnTheSchedule(outcome: DeliveryOutcome) {
        let decision = policy.decide(attempt: 2, outcome: outcome, failingFor: .seconds(10), jitterUnit: 0.5)
        #expect(decision == .init(message: .retry(after: .seconds(300)), endpoint: .failing))
    }

    @Test func theLastAttemptIsDead() {
        let decision = policy.decide(attempt: 10, outcome: .timeout, failingFor: .seconds(10), jitterUnit: 0.5)
        #expect(decision.message == .dead)
    }

    @Test func goneDisablesAtOnce() {
        let decision = policy.decide(attempt: 1, outcome: .response(status: 410, retryAfter: nil), failingFor: .zero, jitterUnit: 0.5)
        #expect(decision.endpoint == .disable(reason: "the endpoint answered 410 Gone"))
        #expect(decision.message == .retry(after: .seconds(5)))
    }

    @Test func continuousFailureDisablesAfterTheLimit() {
        let before = policy.decide(attempt: 4, outcome: .timeout, failingFor: .seconds(3599), jitterUnit: 0.5)
        #expect(before.endpoint == .failing)
        let after = policy.decide(attempt: 5, outcome: .timeout, failingFor: .seconds(3600), jitterUnit: 0.5)
        #expect(after.endpoint == .disable(reason: "failing continuously for 1h 0m (limit 1h 0m)"))
        let never = DeliveryPolicy(schedule: .standard, disableAfter: nil).decide(
            attempt: 5, outcome: .timeout, failingFor: .seconds(1_000_000), jitterUnit: 0.5)
        #expect(never.endpoint == .failing)
    }

    @Test func retryAfterOnSlowDownStatusesLengthensTheDelayButIsCapped() {
        let longer = policy.decide(attempt: 1, outcome: .response(status: 429, retryAfter: .seconds(60)), failingFor: .zero, jitterUnit: 0.5)
        #expect(longer.message == .retry(after: .seconds(60)))
        let shorter = policy.decide(attempt: 2, outcome: .response(status: 503, retryAfter: .seconds(60)), failingFor: .zero, jitterUnit: 0.5)
        #expect(shorter.message == .retry(after: .seconds(300)))  // 503 is not a slow-down status
        let capped = policy.decide(attempt: 1, outcome: .response(status: 504, retryAfter: .seconds(10 * 86_400)), failingFor: .zero, jitterUnit: 0.5)
        #expect(capped.message == .retry(after: .seconds(86_400)))
    }

    @Test func throttlePausesOnSlowDownAndRecoversOnSuccess() {
        let t0 = ContinuousClock.now
        var throttle = EndpointThrottle(concurrency: 4, initialPause: .seconds(1), maxPause: .seconds(8))
        #expect(throttle.currentLimit == 4 && throttle.mayStart(at: t0))
        throttle.record(.response(status: 500, retryAfter: nil), at: t0)
        #expect(throttle.currentLimit == 4 && throttle.mayStart(at: t0))  // plain failures do not throttle
        throttle.record(.response(status: 502, retryAfter: nil), at: t0)
        #expect(throttle.currentLimit == 1)
        #expect(!throttle.mayStart(at: t0 + .milliseconds(999)))
        #expect(throttle.mayStart(at: t0 + .seconds(1)))
        throttle.record(.response(status: 504, retryAfter: nil), at: t0 + .seconds(1))
        #expect(!throttle.mayStart(at: t0 + .milliseconds(2999)))  // doubled: 2 s
        throttle.record(.response(status: 429, retryAfter: .seconds(30)), at: t0 + .seconds(3))
        #expect(!throttle.mayStart(at: t0 + .seconds(10)))  // Retry-After capped at maxPause 8 s
        #expect(throttle.mayStart(at: t0 + .seconds(11)))
        throttle.record(.response(status: 200, retryAfter: nil), at: t0 + .seconds(11))
        #expect(throttle.currentLimit == 4 && throttle.nextPause == .seconds(1))
    }

    @Test func retryAfterParsesSecondsAndHTTPDates() {
        let now = Timestamp(secondsSinceEpoch: 1_445_412_480)  // Wed, 21 Oct 2015 07:28:00 GMT
        #expect(EndpointSender.parseRetryAfter("120", now: now) == .seconds(120))
        #expect(EndpointSender.parseRetryAfter("Wed, 21 Oct 2015 07:30:00 GMT", now: now) == .seconds(120))
        #expect(EndpointSender.parseRetryAfter("soon", now: now) == nil)
        #expect(EndpointSender.parseRetryAfter("-5", now: now) == nil)
    }

    @Test(
        arguments: [
            ([127, 0, 0, 1], DestinationRules.AddressClass.loopback), ([10, 1, 2, 3], .privateNetwork), ([172, 20, 0, 1], .privateNetwork),
            ([192, 168, 1, 1], .privateNetwork), ([100, 64, 0, 1], .privateNetwork), ([169, 254, 169, 254], .linkLocal),
            ([0, 0, 0, 0], .reserved), ([224, 0, 0, 1], .reserved), ([8, 8, 8, 8], .publicAddress), ([172, 32, 0, 1], .publicAddress),
        ] as [([UInt8], DestinationRules.AddressClass)])
    func classifiesIPv4(bytes: [UInt8], kind: DestinationRules.AddressClass) {
        #expect(DestinationRules.classify(ipv4: bytes) == kind)
    }

    @Test func classifiesIPv6() {
        var loopback = [UInt8](repeating: 0, count: 16)
        loopback[15] = 1
        #expect(DestinationRules.classify(ipv6: loopback) == .loopback)
        var mapped = [UInt8](repeating: 0, count: 16)
        mapped[10] = 0xFF
        mapped[11] = 0xFF
        mapped[12] = 10
        #expect(DestinationRules.classify(ipv6: mapped) == .privateNetwork)
        #expect(DestinationRules.classify(ipv6: [0xFE, 0x80] + [UInt8](repeating: 0, count: 14)) == .linkLocal)
        #expect(DestinationRules.classify(ipv6: [0xFD, 0x12] + [UInt8](repeating: 0, count: 14)) == .privateNetwork)
        #expect(DestinationRules.classify(ipv6: [0x26, 0x06, 0x47, 0x00] + [UInt8](repeating: 1, count: 12)) == .publicAddress)
    }

    /// Textual IPv6 forms that embed an IPv4 address: each is classed by the IPv4 address,
    /// so none of these reaches loopback, a private network or the metadata service.
    @Test(
        arguments: [
            ("::ffff:127.0.0.1", DestinationRules.AddressClass.loopback), ("::ffff:10.0.0.1", .privateNetwork),
            ("::127.0.0.1", .loopback), ("::7f00:1", .loopback), ("::10.1.2.3", .privateNetwork),
            ("::169.254.169.254", .linkLocal), ("::192.168.0.1", .privateNetwork), ("::8.8.8.8", .publicAddress),
            ("64:ff9b::127.0.0.1", .loopback), ("::1", .loopback), ("::", .reserved),
        ] as [(String, DestinationRules.AddressClass)])
    func classifiesIPv6FormsThatEmbedIPv4(text: String, kind: DestinationRules.AddressClass) throws {
        var address = in6_addr()
        #expect(inet_pton(AF_INET6, text, &address) == 1, "\(text) parses")
        let bytes = withUnsafeBytes(of: &address) { Array($0) }
        #expect(DestinationRules.classify(ipv6: bytes) == kind, "\(text)")
    }

    @Test(arguments: ["::127.0.0.1", "::7f00:1", "::10.0.0.1", "::169.254.169.254"])
    func resolverRefusesIPv4CompatibleForms(host: String) async throws {
        await #expect(throws: WebhookError.self) {
            try await DestinationResolver.resolve(host: host, port: 80, rules: .publicOnly)
        }
    }

    @Test func urlsMustBeHTTPWithAHost() throws {
        #expect(try DestinationRules.validate(url: "https://hooks.example.com/x").port == 443)
        #expect(try DestinationRules.validate(url: "http://[::1]:8080/x").host == "::1")
        for bad in ["ftp://example.com/", "file:///etc/passwd", "gopher://x", "/relative", "http://user:pw@example.com/"] {
            #expect(throws: WebhookError.self) { try DestinationRules.validate(url: bad) }
        }
    }

    @Test func resolverRefusesLoopbackUnlessAllowed() async throws {
        await #expect(throws: WebhookError.self) {
            try await DestinationResolver.resolve(host: "localhost", port: 80, rules: .publicOnly)
        }
        let allowed = try await DestinationResolver.resolve(host: "127.0.0.1", port: 80, rules: .allowingLoopback)
        #expect(allowed.address == "127.0.0.1")
    }
}
