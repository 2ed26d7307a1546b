/// The protocol versions the server speaks; the parser answers any other `HTTP/x.y` with 505.
public enum HTTPVersion: Sendable, Hashable, CustomStringConvertible {
    case http1_0
    case http1_1

    /// As written on the request line: `"HTTP/1.0"`, `"HTTP/1.1"`.
    public var description: String {
        switch self {
        case .http1_0: "HTTP/1.0"
        case .http1_1: "HTTP/1.1"
        }
    }
}
