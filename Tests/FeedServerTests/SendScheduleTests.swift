import FeedServer
import Testing

@Suite("Send schedule: a steady open-loop rate for feed send")
struct SendScheduleTests {
    @Test("record k is due k / rate after the start; the count due and the due times agree")
    func timetable() {
        let schedule = SendSchedule(rate: 1000, count: 10)
        #expect(schedule.dueTime(of: 0) == .zero)
        #expect(schedule.dueTime(of: 1) == .milliseconds(1))
        #expect(schedule.dueTime(of: 9) == .milliseconds(9))
        #expect(schedule.dueTime(of: 10) == nil)
        #expect(schedule.dueCount(after: .zero) == 1)
        #expect(schedule.dueCount(after: .microseconds(999)) == 1)
        #expect(schedule.dueCount(after: .milliseconds(1)) == 2)
        #expect(schedule.dueCount(after: .microseconds(4500)) == 5)
        #expect(schedule.dueCount(after: .seconds(60)) == 10)
        #expect(schedule.dueCount(after: .milliseconds(-5)) == 0)
        // At every due time exactly that record is due and the next one is not, for awkward rates too.
        for rate in [3.0, 7.0, 4999.0, 5000.0, 1250.3] {
            let odd = SendSchedule(rate: rate, count: 2000)
            for index in 0..<2000 {
                guard let due = odd.dueTime(of: index) else {
                    Issue.record("no due time for \(index)")
                    return
                }
                #expect(odd.dueCount(after: due) == index + 1)
                if index > 0 { #expect(odd.dueCount(after: due - .nanoseconds(1)) == index) }
            }
        }
    }

    @Test("unpaced: everything is due at once and nothing waits")
    func unpaced() {
        for schedule in [SendSchedule(rate: 0, count: 5), SendSchedule(rate: -3, count: 5)] {
            #expect(schedule.rate == 0)
            #expect(schedule.dueCount(after: .zero) == 5)
            #expect(schedule.wait(sent: 0, elapsed: .zero) == .zero)
            #expect(schedule.wait(sent: 5, elapsed: .zero) == nil)
        }
        #expect(SendSchedule(rate: 100, count: 0).dueCount(after: .seconds(1)) == 0)
    }

    @Test("the wait is until the next record is due, at least a tick, zero when late, nil when done")
    func waits() {
        let schedule = SendSchedule(rate: 100, count: 4)  // due at 0, 10, 20, 30 ms
        #expect(schedule.wait(sent: 1, elapsed: .zero) == .milliseconds(10))
        #expect(schedule.wait(sent: 1, elapsed: .milliseconds(9)) == .milliseconds(2))  // the tick
        #expect(schedule.wait(sent: 1, elapsed: .milliseconds(9), tick: .zero) == .milliseconds(1))
        // Held up (a takeover): what fell due meanwhile is due at once.
        #expect(schedule.wait(sent: 1, elapsed: .seconds(5)) == .zero)
        #expect(schedule.dueCount(after: .seconds(5)) == 4)
        #expect(schedule.wait(sent: 4, elapsed: .seconds(5)) == nil)
    }

    @Test("the connections' shares are in proportion to their records and add up to the total rate")
    func shares() {
        let counts = [3000, 1000, 0, 1000]
        let shares = counts.map { SendSchedule.share(ofTotal: 5000, records: $0, ofAll: 5000) }
        #expect(shares.map(\.rate) == [3000, 1000, 0, 1000])
        #expect(shares.map(\.rate).reduce(0, +) == 5000)
        // Each connection's last record falls due at the same moment: they finish together.
        #expect(shares[0].dueTime(of: 2999) == .nanoseconds(999_666_667))
        #expect(shares[1].dueTime(of: 999) == .milliseconds(999))
        #expect(SendSchedule.share(ofTotal: 0, records: 10, ofAll: 20).rate == 0)
    }
}
