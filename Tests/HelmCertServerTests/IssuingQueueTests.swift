import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import HTTPServer
import Testing
@testable import HelmCertServer

@Suite("The bounded issuing queue")
struct IssuingQueueTests {
    /// A job that holds its worker until released, and says when it started.
    final class Gate: Sendable {
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let ran = Atomic<Int>(0)
        let skipped = Atomic<Int>(0)

        func job(_ clientLeft: Bool) {
            if clientLeft {
                skipped.add(1, ordering: .relaxed)
            } else {
                ran.add(1, ordering: .relaxed)
                started.signal()
                release.wait()
            }
            finished.signal()
        }
    }

    @Test("at most `concurrency` jobs run at once; the rest wait their turn and then run")
    func concurrency() throws {
        let queue = IssuingQueue(limits: .init(concurrency: 2, maxPending: 10, maxPendingPerClient: 10))
        let gate = Gate()
        for _ in 0..<4 { try queue.submit(from: "10.0.0.1:1", user: "alice", hasLeft: { false }, job: gate.job) }
        gate.started.wait()
        gate.started.wait()
        #expect(gate.started.wait(timeout: .now() + .milliseconds(200)) == .timedOut)
        #expect(gate.ran.load(ordering: .relaxed) == 2)
        for _ in 0..<4 { gate.release.signal() }
        for _ in 0..<4 { gate.finished.wait() }
        #expect(gate.ran.load(ordering: .relaxed) == 4)
    }

    @Test("beyond maxPending waiting or running, requests are refused at once; places come back when jobs end")
    func overallBound() throws {
        let queue = IssuingQueue(limits: .init(concurrency: 1, maxPending: 3, maxPendingPerClient: 3))
        let gate = Gate()
        try queue.submit(from: "10.0.0.1:1", user: "alice", hasLeft: { false }, job: gate.job)
        try queue.submit(from: "10.0.0.2:1", user: "alice", hasLeft: { false }, job: gate.job)
        try queue.submit(from: "10.0.0.3:1", user: "alice", hasLeft: { false }, job: gate.job)
        #expect(throws: IssuingQueue.Refusal.full(3)) {
            try queue.submit(from: "10.0.0.4:1", user: "alice", hasLeft: { false }, job: gate.job)
        }
        #expect(queue.pending == 3)
        gate.started.wait()
        gate.release.signal()
        gate.finished.wait()
        // The finished job's place is given back just after it returns.
        var accepted = false
        for _ in 0..<100 where !accepted {
            accepted = (try? queue.submit(from: "10.0.0.4:1", user: "alice", hasLeft: { false }, job: gate.job)) != nil
            if !accepted { usleep(10_000) }
        }
        #expect(accepted)
        for _ in 0..<3 { gate.release.signal() }
        for _ in 0..<3 { gate.finished.wait() }
    }

    @Test("one client address holds at most maxPendingPerClient places; others still get theirs")
    func perClientBound() throws {
        let queue = IssuingQueue(limits: .init(concurrency: 1, maxPending: 10, maxPendingPerClient: 2))
        let gate = Gate()
        try queue.submit(from: "10.0.0.1:1", user: "alice", hasLeft: { false }, job: gate.job)
        try queue.submit(from: "10.0.0.1:2", user: "alice", hasLeft: { false }, job: gate.job)
        let refusal = try #require(throws: IssuingQueue.Refusal.self) {
            try queue.submit(from: "10.0.0.1:3", user: "alice", hasLeft: { false }, job: gate.job)
        }
        #expect(refusal == .clientFull(ClientAddress(remoteAddress: "10.0.0.1"), 2))
        #expect(refusal.description.contains("10.0.0.1"))
        try queue.submit(from: "10.0.0.2:1", user: "alice", hasLeft: { false }, job: gate.job)
        for _ in 0..<3 { gate.release.signal() }
        for _ in 0..<3 { gate.finished.wait() }
    }

    @Test("one user holds at most maxPendingPerUser places, from any addresses; other users still get theirs")
    func perUserBound() throws {
        let queue = IssuingQueue(limits: .init(concurrency: 1, maxPending: 10, maxPendingPerClient: 10, maxPendingPerUser: 2))
        let gate = Gate()
        try queue.submit(from: "10.0.0.1:1", user: "ci", hasLeft: { false }, job: gate.job)
        try queue.submit(from: "10.0.0.2:1", user: "ci", hasLeft: { false }, job: gate.job)
        let refusal = try #require(throws: IssuingQueue.Refusal.self) {
            try queue.submit(from: "10.0.0.3:1", user: "ci", hasLeft: { false }, job: gate.job)
        }
        #expect(refusal == .userFull("ci", 2))
        #expect(refusal.description.contains("ci") && refusal.description.contains("per user"))
        try queue.submit(from: "10.0.0.3:1", user: "alice", hasLeft: { false }, job: gate.job)
        #expect(queue.pending == 3, "the refused request took no place")
        for _ in 0..<3 { gate.release.signal() }
        for _ in 0..<3 { gate.finished.wait() }
        // Places come back: the user may ask again.
        var accepted = false
        for _ in 0..<100 where !accepted {
            accepted = (try? queue.submit(from: "10.0.0.3:1", user: "ci", hasLeft: { false }, job: gate.job)) != nil
            if !accepted { usleep(10_000) }
        }
        #expect(accepted)
        gate.release.signal()
        gate.finished.wait()
    }

    @Test("a queued job whose client left is skipped, not run")
    func clientLeft() throws {
        let queue = IssuingQueue(limits: .init(concurrency: 1, maxPending: 10, maxPendingPerClient: 10))
        let gate = Gate()
        try queue.submit(from: "10.0.0.1:1", user: "alice", hasLeft: { false }, job: gate.job)
        gate.started.wait()
        try queue.submit(from: "10.0.0.1:2", user: "alice", hasLeft: { true }, job: gate.job)
        gate.release.signal()
        gate.finished.wait()
        gate.finished.wait()
        #expect(gate.ran.load(ordering: .relaxed) == 1)
        #expect(gate.skipped.load(ordering: .relaxed) == 1)
    }
}
