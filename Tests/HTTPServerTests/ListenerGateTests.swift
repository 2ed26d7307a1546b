import Testing

@testable import HTTPServer

@Suite("ListenerGate")
struct ListenerGateTests {
    @Test("out of descriptors: the listener is not polled until a connection closes (no busy loop)")
    func pausesUntilAConnectionCloses() {
        var gate = ListenerGate(retryDelay: 100)
        #expect(gate.isPolling)
        #expect(gate.acceptFailed(now: 1_000) == .pause(firstInEpisode: true))
        #expect(!gate.isPolling)
        #expect(gate.resumesAt == 1_100)
        #expect(gate.timePassed(now: 1_099) == .none)
        #expect(!gate.isPolling, "the listener is polled again before the delay, so the loop would spin")
        #expect(gate.connectionClosed() == .resume)
        #expect(gate.isPolling)
        #expect(gate.connectionClosed() == .none, "resumed twice")
    }

    @Test("out of descriptors: polling resumes by itself after the retry delay")
    func resumesAfterDelay() {
        var gate = ListenerGate(retryDelay: 100)
        _ = gate.acceptFailed(now: 0)
        #expect(gate.timePassed(now: 100) == .resume)
        #expect(gate.isPolling)
        #expect(gate.resumesAt == Int64.max)
        #expect(gate.timePassed(now: 500) == .none)
    }

    @Test("an episode is logged once however often accept fails, and its end once")
    func logsOncePerEpisode() {
        var gate = ListenerGate(retryDelay: 100)
        #expect(gate.accepted() == .none)
        #expect(gate.acceptFailed(now: 0) == .pause(firstInEpisode: true))
        for round in 1...5 {
            #expect(gate.timePassed(now: Int64(round) * 100) == .resume)
            #expect(gate.acceptFailed(now: Int64(round) * 100) == .pause(firstInEpisode: false))
        }
        _ = gate.connectionClosed()
        #expect(gate.accepted() == .episodeEnded)
        #expect(gate.accepted() == .none)
        #expect(gate.acceptFailed(now: 1_000) == .pause(firstInEpisode: true), "a new episode is not logged")
    }
}
