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
        #expect(!machine.mayParse)
        #expect(machine.outputFlushed(now: 1, hasBufferedInput: true) == .finishSending)
        #expect(machine.state == .draining(deadline: 1 + timeouts.drain))
    }

    @Test("pipelined keep-alive requests are all answered before the flush")
    func pipelined() {
        var machine = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        #expect(machine.requestReceived(keepAlive: true, now: 0) == .respond(close: false))
        #expect(machine.requestReceived(keepAlive: true, now: 0) == .respond(close: false))
        #expect(machine.requestReceived(keepAlive: false, now: 0) == .respond(close: true))
        #expect(machine.outputFlushed(now: 1, hasBufferedInput: false) == .finishSending)
    }

    @Test("a rejected head closes after its error response")
    func rejected() {
        var machine = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        machine.requestRejected(now: 0)
        #expect(!machine.mayParse)
        #expect(machine.outputFlushed(now: 1, hasBufferedInput: false) == .finishSending)
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
        #expect(machine.outputFlushed(now: 6, hasBufferedInput: false) == .finishSending)
    }

    @Test("shutdown while a keep-alive response is being written closes after it")
    func shutdownWhileResponding() {
        var machine = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        _ = machine.requestReceived(keepAlive: true, now: 0)
        #expect(machine.shutdownRequested() == .none)
        #expect(machine.outputFlushed(now: 1, hasBufferedInput: false) == .finishSending)
    }

    // MARK: deferred responses

    /// A keep-alive connection whose first request (promise 7) was deferred at `now`.
    func awaiting(at now: Int64 = 0, keepAlive: Bool = true, isHead: Bool = false) -> HTTPConnectionStateMachine {
        var machine = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        _ = machine.requestReceived(keepAlive: keepAlive, now: now)
        machine.responseDeferred(id: 7, isHead: isHead, keepAliveHTTP10: false, now: now)
        #expect(machine.awaited?.id == 7)
        return machine
    }

    @Test("a deferred response waits under the response deadline, not the idle or header one; nothing is parsed")
    func deferredWaitsForResponseDeadline() {
        var machine = awaiting(at: 10)
        let deferred = HTTPConnectionStateMachine.Deferred(id: 7, isHead: false, keepAliveHTTP10: false, closeAfter: false)
        #expect(machine.state == .awaitingResponse(deferred, deadline: 5010))
        #expect(machine.awaited == deferred)
        #expect(!machine.mayParse)
        #expect(machine.deadlineCheck(now: 1500) == .none)  // past idle (1000) and header (200) timeouts
        machine.bytesReceived(now: 1600)  // pipelined bytes don't start a header deadline
        machine.wroteBytes(now: 1700)  // earlier responses flushing don't move the deadline either
        #expect(machine.state == .awaitingResponse(deferred, deadline: 5010))
    }

    @Test("flushing earlier pipelined responses keeps the connection awaiting")
    func flushWhileAwaiting() {
        var machine = awaiting()
        #expect(machine.outputFlushed(now: 5, hasBufferedInput: true) == .none)
        #expect(machine.awaited != nil)
        #expect(machine.requestReceived(keepAlive: true, now: 6) == .none)  // nothing is parsed meanwhile
    }

    @Test("a late deferred response is answered 503 (respondTimedOut), then the connection closes")
    func deferredDeadlineFires() {
        var machine = awaiting(at: 0, isHead: true)
        #expect(machine.deadlineCheck(now: 4999) == .none)
        #expect(machine.deadlineCheck(now: 5000) == .respondTimedOut(isHead: true))
        #expect(machine.state == .responding(closeAfter: true, deadline: 6000))
        #expect(machine.responseArrived(id: 7, now: 5001) == nil)  // the answer that comes after is dropped
        #expect(machine.outputFlushed(now: 5002, hasBufferedInput: true) == .finishSending)
    }

    @Test("the deferred answer is written, then the next pipelined request is parsed under the header timeout")
    func answerThenPipelined() {
        var machine = awaiting(at: 0)
        #expect(machine.responseArrived(id: 7, now: 300)?.closeAfter == false)
        #expect(machine.state == .responding(closeAfter: false, deadline: 1300))
        #expect(machine.outputFlushed(now: 310, hasBufferedInput: true) == .none)
        #expect(machine.state == .readingHead(deadline: 510))
        #expect(machine.requestReceived(keepAlive: true, now: 320) == .respond(close: false))
    }

    @Test("an answer for another promise number (a late one for an earlier connection on the socket) is dropped")
    func answerForAnotherPromise() {
        var machine = awaiting()
        #expect(machine.responseArrived(id: 6, now: 1) == nil)
        #expect(machine.awaited?.id == 7)
    }

    @Test("the deferred answer to a Connection: close request closes after it")
    func answerWithClose() {
        var machine = awaiting(keepAlive: false)
        #expect(machine.responseArrived(id: 7, now: 1)?.closeAfter == true)
        #expect(machine.outputFlushed(now: 2, hasBufferedInput: false) == .finishSending)
    }

    @Test("only the first answer counts")
    func answerOnce() {
        var machine = awaiting()
        #expect(machine.responseArrived(id: 7, now: 1) != nil)
        #expect(machine.responseArrived(id: 7, now: 2) == nil)
    }

    @Test("the peer gone (reset) while awaiting closes the connection; the answer that follows is dropped")
    func goneWhileAwaiting() {
        var machine = awaiting()
        #expect(machine.peerGoneReported() == .close)
        #expect(machine.state == .closed)
        #expect(machine.responseArrived(id: 7, now: 1) == nil)
        #expect(machine.deadlineCheck(now: 6000) == .close)
    }

    @Test("the peer gone before its request was parsed: closed, so the request is never answered")
    func goneBeforeParsing() {
        var machine = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        #expect(machine.peerGoneReported() == .close)
        #expect(!machine.mayParse)
        #expect(machine.requestReceived(keepAlive: true, now: 1) == .close)
    }

    @Test("shutdown keeps waiting for the deferred answer, which then goes out with Connection: close")
    func shutdownWhileAwaiting() {
        var machine = awaiting()
        #expect(machine.shutdownRequested() == .none)
        #expect(machine.awaited?.closeAfter == true)
        #expect(machine.responseArrived(id: 7, now: 10)?.closeAfter == true)
        #expect(machine.outputFlushed(now: 11, hasBufferedInput: true) == .finishSending)
    }

    // MARK: end of stream and draining

    @Test("end of stream while a response is queued: the response is written, then the connection drains")
    func endOfStreamWhileResponding() {
        var machine = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        _ = machine.requestReceived(keepAlive: true, now: 0)
        #expect(machine.endOfStream() == .none)
        #expect(!machine.mayParse)
        #expect(machine.outputFlushed(now: 1, hasBufferedInput: false) == .finishSending)
    }

    @Test(
        "end of stream in any other state closes",
        arguments: ["idle", "readingHead", "readingBody", "awaiting", "draining", "handshaking"])
    func endOfStreamCloses(_ where_: String) {
        var machine = HTTPConnectionStateMachine(tls: where_ == "handshaking", now: 0, timeouts: timeouts)
        switch where_ {
        case "readingBody":
            machine.bodyExpected(length: 10, now: 0)
        case "idle":
            _ = machine.requestReceived(keepAlive: true, now: 0)
            _ = machine.outputFlushed(now: 0, hasBufferedInput: false)
        case "awaiting":
            machine = awaiting()
        case "draining":
            _ = machine.requestReceived(keepAlive: false, now: 0)
            _ = machine.outputFlushed(now: 0, hasBufferedInput: false)
        default: break
        }
        #expect(machine.endOfStream() == .close)
        #expect(machine.state == .closed)
    }

    // MARK: request bodies

    @Test("a head announcing a body its route takes: the body is read under the head's deadline, then answered")
    func bodyUnderTheHeadDeadline() {
        var machine = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        machine.bodyExpected(length: 300, now: 150)
        #expect(machine.state == .readingBody(length: 300, deadline: 200))
        #expect(machine.expectedBodyBytes == 300)
        #expect(machine.mayParse)
        machine.bytesReceived(now: 190)  // a trickling body does not move the deadline
        #expect(machine.requestReceived(keepAlive: true, now: 190) == .respond(close: false))
        #expect(machine.state == .responding(closeAfter: false, deadline: 1190))
        #expect(machine.expectedBodyBytes == nil)
    }

    @Test("a body not all here by the head's deadline closes the connection, as a slow head does")
    func slowBodyCloses() {
        var machine = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        machine.bodyExpected(length: 10, now: 50)
        #expect(machine.deadlineCheck(now: 199) == .none)
        #expect(machine.deadlineCheck(now: 200) == .close)
        #expect(machine.state == .closed)
    }

    @Test("a body whose head waited behind earlier answers gets the header timeout from its head's parse")
    func pipelinedBodyDeadline() {
        var machine = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        _ = machine.requestReceived(keepAlive: true, now: 0)
        machine.bodyExpected(length: 10, now: 500)
        #expect(machine.state == .readingBody(length: 10, deadline: 700))
        // The earlier answer flushing meanwhile changes nothing: the body is still awaited.
        #expect(machine.outputFlushed(now: 600, hasBufferedInput: true) == .none)
        #expect(machine.state == .readingBody(length: 10, deadline: 700))
    }

    @Test("no body is read after a response that closes, while an answer is deferred, or while handshaking")
    func noBodyWhereNothingIsParsed() {
        var closing = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        _ = closing.requestReceived(keepAlive: false, now: 0)
        closing.bodyExpected(length: 10, now: 1)
        #expect(closing.expectedBodyBytes == nil)
        var waiting = awaiting()
        waiting.bodyExpected(length: 10, now: 1)
        #expect(waiting.expectedBodyBytes == nil)
        var handshaking = HTTPConnectionStateMachine(tls: true, now: 0, timeouts: timeouts)
        handshaking.bodyExpected(length: 10, now: 1)
        #expect(handshaking.isHandshaking)
    }

    @Test("shutdown while a body is read: the request finishes, answered with Connection: close")
    func shutdownWhileReadingBody() {
        var machine = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        machine.bodyExpected(length: 10, now: 0)
        #expect(machine.shutdownRequested() == .none)
        #expect(machine.state == .readingBody(length: 10, deadline: 200))
        #expect(machine.requestReceived(keepAlive: true, now: 5) == .respond(close: true))
    }

    @Test("a draining connection closes at the drain deadline, and shutdown lets it drain on")
    func drainDeadline() {
        var machine = HTTPConnectionStateMachine(tls: false, now: 0, timeouts: timeouts)
        _ = machine.requestReceived(keepAlive: false, now: 0)
        #expect(machine.outputFlushed(now: 10, hasBufferedInput: false) == .finishSending)
        #expect(machine.shutdownRequested() == .none)
        #expect(machine.deadlineCheck(now: 10 + timeouts.drain - 1) == .none)
        #expect(machine.deadlineCheck(now: 10 + timeouts.drain) == .close)
    }

    @Test("a handshake completing moves the connection to reading its first head; only then may it parse")
    func handshakeThenHead() {
        var machine = HTTPConnectionStateMachine(tls: true, now: 0, timeouts: timeouts)
        #expect(machine.isHandshaking)
        #expect(!machine.mayParse)
        #expect(machine.requestReceived(keepAlive: true, now: 1) == .close)
        var done = HTTPConnectionStateMachine(tls: true, now: 0, timeouts: timeouts)
        done.handshakeCompleted(now: 5)
        #expect(!done.isHandshaking)
        #expect(done.mayParse)
    }

    @Test("a response deadline comes from HTTPServerLimits.responseTimeout (30 s by default)")
    func responseTimeoutFromLimits() {
        #expect(HTTPConnectionStateMachine.Timeouts(HTTPServerLimits()).response == 30_000_000_000)
        let short = HTTPServerLimits(responseTimeout: .milliseconds(300))
        #expect(HTTPConnectionStateMachine.Timeouts(short).response == 300_000_000)
    }
}
