/// A request method (RFC 9110 §9): a token, case-sensitive.
///
/// A struct rather than a closed enum because methods are extensible: a request with a method this server has
/// never heard of must still reach the responder, which answers it 405 or 501 naming the method. The common
/// ones are constants, so a responder compares against `.get`, not a string spelled by hand.
public struct HTTPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The token as sent, e.g. `"GET"`.
    public let rawValue: String

    /// The method spelled `rawValue` (the parser passes only RFC 9110 tokens).
    public init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    public static let get = HTTPMethod(rawValue: "GET")
    public static let head = HTTPMethod(rawValue: "HEAD")
    public static let post = HTTPMethod(rawValue: "POST")
    public static let put = HTTPMethod(rawValue: "PUT")
    public static let delete = HTTPMethod(rawValue: "DELETE")
    public static let patch = HTTPMethod(rawValue: "PATCH")
    public static let options = HTTPMethod(rawValue: "OPTIONS")
    public static let trace = HTTPMethod(rawValue: "TRACE")
    public static let connect = HTTPMethod(rawValue: "CONNECT")
}
