/// `--listen HOST:PORT`: an IPv4 address, a bracketed IPv6 address or a name, and a port (0 = any free one).
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `0.0.0.0:8443`, `127.0.0.1:0`, `[::]:8443`, `localhost:8443`.
    /// - Throws: `ListenAddressError` saying what shape was expected.
    public init(parsing text: String) throws(ListenAddressError) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ListenAddressError(text: text)
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw ListenAddressError(text: text)
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (0...65_535).contains(port) else {
            throw ListenAddressError(text: text)
        }
        self.host = String(host)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// `--listen` was not `HOST:PORT`.
public struct ListenAddressError: Error, Sendable, CustomStringConvertible {
    public var text: String
    public var description: String {
        "--listen \(text) is not HOST:PORT; examples: 0.0.0.0:8443, 127.0.0.1:8443, [::]:8443"
    }
}
