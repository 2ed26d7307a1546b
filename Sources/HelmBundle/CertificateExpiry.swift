import FoundationEssentials

/// When a PEM certificate chain stops working: the earliest `notAfter` of every certificate in it (an expired
/// intermediate breaks the chain as surely as an expired leaf). For the serving certificate's expiry metric.
///
/// - Parameters:
///   - pem: the chain's PEM text (`--tls-cert`).
///   - file: its name, for the error.
/// - Throws: ``BundleError`` when no certificate parses.
public func earliestNotAfter(ofPEM pem: [UInt8], file: String) throws(BundleError) -> Date {
    let certificates = try Certificate.all(fromPEM: pem, key: file)
    return certificates.map(\.notAfter).min() ?? certificates[0].notAfter
}
