import Testing

@testable import HTTPServer

@Suite("HTTPConnectionStateMachine")
struct HTTPConnectionStateMachineTests {
    let timeouts = HTTPConnectionStateMachine.Timeouts(handshake: 100, header: 200, idle: 1000, response: 5000)

    @Test("a TLS connection must finish its handshake before the handshake deadline")
    func handshakeTimeout() {
        var machine = HTTPConnectionStateMachine(tls: true, now: 0, timeouts: timeouts)
        #expect(machine.state == .handshaking(deadline: 100))
        #expect(machine.deadlineCheck(now: 99) == .none)
        #expect(machine.deadlineCheck(now: 100) == .close)
        #expect(machine.state == .closed)
    }

    @Test("after the handshake the first head must arrive within the header timeout")
    func firstHeadDeadline() {
        var machine = HTTPConnectionStateMachine(tls: true, now: 0, timeouts: timeouts)
        machine.handshakeCompleted(now: 50)
        #expect(machine.state == .readingHead(deadline: 250))
        machine.bytesReceived(now: 240)  // a slowloris trickle does not move the deadline
        #expect(machine.deadlineCheck(now: 250) == .close)
    }

    @Test("keep-alive: a flushed response leads to idle with the idle timeout, new bytes start the header timeout")
    func keepAliveCycle() {
        var machine = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        #expect(machine.requestReceived(keepAlive: true, now: 10) == .respond(close: false))
        #expect(machine.outputFlushed(now: 20, hasBufferedInput: false) == .none)
        #expect(machine.state == .idle(deadline: 1020))
        machine.bytesReceived(now: 500)
        #expect(machine.state == .readingHead(deadline: 700))
        #expect(machine.requestReceived(keepAlive: true, now: 600) == .respond(close: false))
        #expect(machine.outputFlushed(now: 610, hasBufferedInput: true) == .none)
        #expect(machine.state == .readingHead(deadline: 810))
    }

    @Test("an idle keep-alive connection closes at the idle deadline")
    func idleTimeout() {
        var machine = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        _ = machine.requestReceived(keepAlive: true, now: 0)
        _ = machine.outputFlushed(now: 0, hasBufferedInput: false)
        #expect(machine.deadlineCheck(now: 999) == .none)
        #expect(machine.deadlineCheck(now: 1000) == .close)
    }

    @Test("Connection: close responds with close and closes once flushed; later pipelined requests are ignored")
    func closeAfterResponse() {
        var machine = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        #expect(machine.requestReceived(keepAlive: false, now: 0) == .respond(close: true))
        #expect(machine.requestReceived(keepAlive: true, now: 0) == .none)
        #expect(machine.outputFlushed(now: 1, hasBufferedInput: true) == .close)
    }

    @Test("pipelined keep-alive requests are all answered before the flush")
    func pipelined() {
        var machine = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        #expect(machine.requestReceived(keepAlive: true, now: 0) == .respond(close: false))
        #expect(machine.requestReceived(keepAlive: true, now: 0) == .respond(close: false))
        #expect(machine.requestReceived(keepAlive: false, now: 0) == .respond(close: true))
        #expect(machine.outputFlushed(now: 1, hasBufferedInput: false) == .close)
    }

    @Test("a rejected head closes after its error response")
    func rejected() {
        var machine = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        machine.requestRejected(now: 0)
        #expect(machine.outputFlushed(now: 1, hasBufferedInput: false) == .close)
    }

    @Test("a peer that stops reading the response is closed at the write deadline; progress moves it")
    func writeStall() {
        var machine = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        _ = machine.requestReceived(keepAlive: true, now: 0)
        machine.wroteBytes(now: 900)
        #expect(machine.deadlineCheck(now: 1500) == .none)
        #expect(machine.deadlineCheck(now: 1900) == .close)
    }

    @Test("shutdown closes idle and handshaking connections at once")
    func shutdownIdle() {
        var idle = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        _ = idle.requestReceived(keepAlive: true, now: 0)
        _ = idle.outputFlushed(now: 0, hasBufferedInput: false)
        #expect(idle.shutdownRequested() == .close)
        var handshaking = HTTPConnectionStateMachine(tls: true, now: 0, timeouts: timeouts)
        #expect(handshaking.shutdownRequested() == .close)
    }

    @Test("shutdown lets a request in flight finish, answered with Connection: close")
    func shutdownInFlight() {
        var machine = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        machine.bytesReceived(now: 0)
        #expect(machine.shutdownRequested() == .none)
        #expect(machine.requestReceived(keepAlive: true, now: 5) == .respond(close: true))
        #expect(machine.outputFlushed(now: 6, hasBufferedInput: false) == .close)
    }

    @Test("shutdown while a keep-alive response is being written closes after it")
    func shutdownWhileResponding() {
        var machine = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        _ = machine.requestReceived(keepAlive: true, now: 0)
        #expect(machine.shutdownRequested() == .none)
        #expect(machine.outputFlushed(now: 1, hasBufferedInput: false) == .close)
    }

    // MARK: deferred responses

    /// A keep-alive connection whose first request was deferred at `now`.
    func awaiting(at now: Int64 = 0, keepAlive: Bool = true) -> HTTPConnectionStateMachine {
        var machine = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        _ = machine.requestReceived(keepAlive: keepAlive, now: now)
        machine.responseDeferred(now: now)
        return machine
    }

    @Test("a deferred response waits under the response deadline, not the idle or header one")
    func deferredWaitsForResponseDeadline() {
        var machine = awaiting(at: 10)
        #expect(machine.state == .awaitingResponse(closeAfter: false, deadline: 5010))
        #expect(machine.isAwaitingResponse)
        #expect(machine.deadlineCheck(now: 1500) == .none)  // past idle (1000) and header (200) timeouts
        machine.bytesReceived(now: 1600)  // pipelined bytes don't start a header deadline
        machine.wroteBytes(now: 1700)  // earlier responses flushing don't move the deadline either
        #expect(machine.state == .awaitingResponse(closeAfter: false, deadline: 5010))
    }

    @Test("flushing earlier pipelined responses keeps the connection awaiting")
    func flushWhileAwaiting() {
        var machine = awaiting()
        #expect(machine.outputFlushed(now: 5, hasBufferedInput: true) == .none)
        #expect(machine.isAwaitingResponse)
        #expect(machine.requestReceived(keepAlive: true, now: 6) == .none)  // nothing is parsed meanwhile
    }

    @Test("a late deferred response is answered 503 (respondTimedOut), then the connection closes")
    func deferredDeadlineFires() {
        var machine = awaiting(at: 0)
        #expect(machine.deadlineCheck(now: 4999) == .none)
        #expect(machine.deadlineCheck(now: 5000) == .respondTimedOut)
        #expect(machine.state == .responding(closeAfter: true, deadline: 6000))
        #expect(machine.responseArrived(now: 5001) == .none)  // the answer that comes after is dropped
        #expect(machine.outputFlushed(now: 5002, hasBufferedInput: true) == .close)
    }

    @Test("the deferred answer is written, then the next pipelined request is parsed under the header timeout")
    func answerThenPipelined() {
        var machine = awaiting(at: 0)
        #expect(machine.responseArrived(now: 300) == .respond(close: false))
        #expect(machine.state == .responding(closeAfter: false, deadline: 1300))
        #expect(machine.outputFlushed(now: 310, hasBufferedInput: true) == .none)
        #expect(machine.state == .readingHead(deadline: 510))
        #expect(machine.requestReceived(keepAlive: true, now: 320) == .respond(close: false))
    }

    @Test("the deferred answer to a Connection: close request closes after it")
    func answerWithClose() {
        var machine = awaiting(keepAlive: false)
        #expect(machine.responseArrived(now: 1) == .respond(close: true))
        #expect(machine.outputFlushed(now: 2, hasBufferedInput: false) == .close)
    }

    @Test("only the first answer counts")
    func answerOnce() {
        var machine = awaiting()
        #expect(machine.responseArrived(now: 1) == .respond(close: false))
        #expect(machine.responseArrived(now: 2) == .none)
    }

    @Test("the peer closing while awaiting closes the connection; the answer that follows is dropped")
    func closeWhileAwaiting() {
        var machine = awaiting()
        machine.connectionLost()
        #expect(machine.state == .closed)
        #expect(machine.responseArrived(now: 1) == .none)
        #expect(machine.deadlineCheck(now: 6000) == .close)
    }

    @Test("shutdown keeps waiting for the deferred answer, which then goes out with Connection: close")
    func shutdownWhileAwaiting() {
        var machine = awaiting()
        #expect(machine.shutdownRequested() == .none)
        #expect(machine.state == .awaitingResponse(closeAfter: true, deadline: 5000))
        #expect(machine.responseArrived(now: 10) == .respond(close: true))
        #expect(machine.outputFlushed(now: 11, hasBufferedInput: true) == .close)
    }

    @Test("a response deadline comes from HTTPServerLimits.responseTimeout (30 s by default)")
    func responseTimeoutFromLimits() {
        #expect(HTTPConnectionStateMachine.Timeouts(HTTPServerLimits()).response == 30_000_000_000)
        let short = HTTPServerLimits(responseTimeout: .milliseconds(300))
        #expect(HTTPConnectionStateMachine.Timeouts(short).response == 300_000_000)
    }
}
