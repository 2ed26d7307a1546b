/// `--listen HOST:PORT`: an IPv4 address, a bracketed IPv6 address or a name, and a port (0 = any free one).
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `0.0.0.0:8443`, `127.0.0.1:0`, `[::]:8443`, `localhost:8443`. A name is kept as written:
    /// ``resolved()`` turns it into an address.
    /// - Throws: ``ListenAddressError`` saying what shape was expected, or that the port is out of range.
    public init(parsing text: String) throws(ListenAddressError) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw .notHostPort(text)
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw .notHostPort(text)
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, !portText.isEmpty, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber) else {
            throw .notHostPort(text)
        }
        guard let port = Int(portText), (0...65_535).contains(port) else { throw .portOutOfRange(text) }
        self.host = String(host)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// `--listen` cannot be used: its shape, its port, its name, or someone else already listening there.
public enum ListenAddressError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not `HOST:PORT` (or `[IPv6]:PORT`).
    case notHostPort(String)
    /// A port outside 0–65535.
    case portOutOfRange(String)
    /// A host name that does not resolve (the resolver's message).
    case unresolvable(String, reason: String)
    /// Another process already listens on the address.
    case inUse(ListenAddress)
    /// The address cannot be bound for another reason (not an address of this host, a privileged port).
    case cannotBind(ListenAddress, reason: String)

    public var description: String {
        switch self {
        case .notHostPort(let text):
            "--listen \(text) is not HOST:PORT; examples: 0.0.0.0:8443, 127.0.0.1:8443, [::]:8443, localhost:8443"
        case .portOutOfRange(let text):
            "--listen \(text): the port must be between 0 and 65535 (0 picks a free one)"
        case .unresolvable(let host, let reason):
            "--listen: the host name \(host) does not resolve (\(reason)); use an address such as 0.0.0.0, 127.0.0.1 or [::]"
        case .inUse(let address):
            "--listen \(address): another process already listens there (is another helm-cert-server running?); stop it or choose another address or port"
        case .cannotBind(let address, let reason):
            "--listen \(address) cannot be used: \(reason)"
        }
    }
}
