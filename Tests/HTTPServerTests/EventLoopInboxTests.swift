import Foundation
import Glibc
import Synchronization
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
        inbox.deliver(HTTPResponse(status: 200), to: 7, connection: 10)
        inbox.deliver(HTTPResponse(status: 404), to: 3, connection: 11)
        #expect(isSignalled(inbox))
        let taken = inbox.takeDeliveries()
        #expect(taken.map(\.id) == [7, 3])
        #expect(taken.map(\.connection) == [10, 11])
        #expect(taken.map(\.response.status) == [200, 404])
        #expect(!isSignalled(inbox))
        #expect(inbox.takeDeliveries().isEmpty)
    }

    @Test("a delivery made on the loop's own thread wakes nobody; the loop sees it waiting and takes it")
    func deliveryFromTheLoopThread() throws {
        let inbox = try EventLoopInbox()
        inbox.adoptCurrentThread()
        inbox.deliver(HTTPResponse(status: 200), to: 7, connection: 10)
        #expect(!isSignalled(inbox), "the eventfd was written for the loop's own delivery")
        #expect(inbox.hasOwnDeliveries)
        #expect(inbox.takeDeliveries().map(\.id) == [7])
        #expect(!inbox.hasOwnDeliveries)
    }

    @Test("deliveries from other threads write the eventfd once until the loop takes them")
    func oneWakeUpPerBatch() throws {
        let inbox = try EventLoopInbox()
        inbox.adoptCurrentThread()
        let done = DispatchSemaphore(value: 0)
        Thread {
            for id in 1...3 { inbox.deliver(HTTPResponse(status: 200), to: UInt64(id), connection: 10) }
            done.signal()
        }.start()
        done.wait()
        #expect(!inbox.hasOwnDeliveries)
        var counter: UInt64 = 0
        #expect(read(inbox.wakeFD, &counter, 8) == 8)
        #expect(counter == 1, "the eventfd was written \(counter) times for one batch")
        #expect(inbox.takeDeliveries().map(\.id) == [1, 2, 3])
        inbox.deliver(HTTPResponse(status: 200), to: 4, connection: 10)
        #expect(!isSignalled(inbox))
    }

    @Test("a promise's turn is there on its loop's thread and nil on any other")
    func turnOnlyOnTheLoopThread() throws {
        let inbox = try EventLoopInbox()
        let turn = EventLoopTurn()
        turn.adoptCurrentThread()
        let promise = HTTPResponsePromise(inbox: inbox, slot: PromiseSlot(fd: 9), id: 1, turn: turn)
        #expect(promise.turn === turn)
        let elsewhere = Mutex<Bool?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            elsewhere.withLock { $0 = promise.turn != nil }
            done.signal()
        }.start()
        done.wait()
        #expect(elsewhere.withLock { $0 } == false, "another thread got the loop's turn")
    }

    @Test("a promise hands its response to the inbox under its own number and its connection's socket")
    func promiseDelivers() throws {
        let inbox = try EventLoopInbox()
        let slot = PromiseSlot(fd: 9)
        slot.expect(42)
        HTTPResponsePromise(inbox: inbox, slot: slot, id: 42, turn: nil).succeed(HTTPResponse(status: 201))
        let taken = inbox.takeDeliveries()
        #expect(taken.map(\.id) == [42])
        #expect(taken.map(\.connection) == [9])
    }

    @Test("a promise whose connection stopped waiting is cancelled, and its answer is not even queued")
    func cancelledPromiseIsDropped() throws {
        let inbox = try EventLoopInbox()
        let slot = PromiseSlot(fd: 9)
        slot.expect(42)
        let promise = HTTPResponsePromise(inbox: inbox, slot: slot, id: 42, turn: nil)
        #expect(!promise.isCancelled)
        slot.cancel()
        #expect(promise.isCancelled)
        promise.succeed(HTTPResponse(status: 201))
        #expect(inbox.takeDeliveries().isEmpty)
        slot.expect(43)  // the connection's next request
        #expect(promise.isCancelled)
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
        inbox.deliver(HTTPResponse(status: 200), to: 1, connection: 5)
        inbox.close()
        #expect(fcntl(inbox.wakeFD, F_GETFD) == -1, "the eventfd is still open")
        // The descriptor number is reused (here: by a pipe's write end); a late promise must not write into it.
        try #require(dup2(fds[1], inbox.wakeFD) == inbox.wakeFD)
        defer { for fd in fds + [inbox.wakeFD] { Glibc.close(fd) } }
        let slot = PromiseSlot(fd: 5)
        slot.expect(2)
        HTTPResponsePromise(inbox: inbox, slot: slot, id: 2, turn: nil).succeed(HTTPResponse(status: 200))
        inbox.wake()
        var descriptor = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
        #expect(poll(&descriptor, 1, 0) == 0, "something was written to the reused descriptor")
        #expect(inbox.takeDeliveries().isEmpty)
    }
}
