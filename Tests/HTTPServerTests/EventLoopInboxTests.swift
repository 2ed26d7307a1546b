import Glibc
import Testing

@testable import HTTPServer

@Suite("EventLoopInbox")
struct EventLoopInboxTests {
    /// Whether the inbox's eventfd is readable right now (a wake-up is pending).
    func isSignalled(_ inbox: EventLoopInbox) -> Bool {
        var descriptor = pollfd(fd: inbox.wakeFD, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) == 1
    }

    @Test("deliveries from other threads wake the loop and come out oldest first, once")
    func deliveriesInOrder() throws {
        let inbox = try EventLoopInbox()
        #expect(!isSignalled(inbox))
        inbox.deliver(HTTPResponse(status: 200), to: 7)
        inbox.deliver(HTTPResponse(status: 404), to: 3)
        #expect(isSignalled(inbox))
        let taken = inbox.takeDeliveries()
        #expect(taken.map(\.id) == [7, 3])
        #expect(taken.map(\.response.status) == [200, 404])
        #expect(!isSignalled(inbox))
        #expect(inbox.takeDeliveries().isEmpty)
    }

    @Test("a promise hands its response to the inbox under its own number")
    func promiseDelivers() throws {
        let inbox = try EventLoopInbox()
        HTTPResponsePromise(inbox: inbox, id: 42).succeed(HTTPResponse(status: 201))
        #expect(inbox.takeDeliveries().map(\.id) == [42])
    }

    @Test("after close (the loop ended) deliveries and wake-ups are dropped without touching the descriptor")
    func closedDropsDeliveries() throws {
        // A high descriptor number, so that no other test running in parallel in this process is handed the
        // number between `close` and the `dup2` below (the kernel hands out the lowest free number).
        var limit = rlimit()
        try #require(getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0)
        let floor = Int32(min(3_000, Int(limit.rlim_cur) - 24))
        let made = try EventLoopInbox()
        let high = fcntl(made.wakeFD, F_DUPFD_CLOEXEC, floor)
        made.close()
        try #require(high >= floor, "no free descriptor at or above \(floor)")
        let inbox = EventLoopInbox(wakeFD: high)
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        inbox.deliver(HTTPResponse(status: 200), to: 1)
        inbox.close()
        #expect(fcntl(inbox.wakeFD, F_GETFD) == -1, "the eventfd is still open")
        // The descriptor number is reused (here: by a pipe's write end); a late promise must not write into it.
        try #require(dup2(fds[1], inbox.wakeFD) == inbox.wakeFD)
        defer { for fd in fds + [inbox.wakeFD] { Glibc.close(fd) } }
        HTTPResponsePromise(inbox: inbox, id: 2).succeed(HTTPResponse(status: 200))
        inbox.wake()
        var descriptor = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
        #expect(poll(&descriptor, 1, 0) == 0, "something was written to the reused descriptor")
        #expect(inbox.takeDeliveries().isEmpty)
    }
}
