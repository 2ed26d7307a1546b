import CEventShims
#if canImport(Glibc)
import Glibc
#endif

/// A thread of its own for work that lives as long as the service (an event loop, a watch, a writer that may
/// block in `write(2)`, a periodic check): never a thread from Dispatch's pool, which a blocked task would
/// take from everyone else. The one place the project calls `pthread_create`.
public final class BackgroundThread: Sendable {
    /// Could not start a thread: the process is out of threads or memory.
    public struct StartError: Error, Sendable, CustomStringConvertible {
        /// What was being started.
        public let name: String
        /// `pthread_create`'s result (an errno value).
        public let code: Int32
        public var description: String {
            "cannot start the \(name) thread: \(String(cString: strerror(code))) (the process is out of threads or memory)"
        }
    }

    private let thread: pthread_t

    private final class Body {
        let name: String
        let run: @Sendable () -> Void
        init(name: String, run: @escaping @Sendable () -> Void) {
            self.name = name
            self.run = run
        }
    }

    /// Starts `body` on a new thread named `name` (cut to the 15 bytes Linux keeps, as `top -H` shows it).
    public init(name: String, _ body: @escaping @Sendable () -> Void) throws(StartError) {
        let box = Unmanaged.passRetained(Body(name: name, run: body))
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
            cshim_set_thread_name(String(decoding: body.name.utf8.prefix(15), as: UTF8.self))
            body.run()
            return nil
        }, box.toOpaque())
        guard result == 0 else {
            box.release()
            throw StartError(name: name, code: result)
        }
        self.thread = thread
    }

    /// Whether the calling thread is this one (joining itself would deadlock).
    public var isCurrent: Bool { pthread_equal(thread, pthread_self()) != 0 }

    /// Waits for the body to return. Call it once, from another thread (it does nothing on this one).
    public func join() {
        guard !isCurrent else { return }
        pthread_join(thread, nil)
    }

    /// Lets the thread end on its own, its resources freed then; nobody will join it.
    public func detach() { pthread_detach(thread) }
}
