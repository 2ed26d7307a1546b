import FoundationEssentials
import FuzzSupport
import HelmBundle
import KubernetesClient

/// A Secret as the API server sends it, through the whole decoding path `KubernetesSecretSource` takes: JSON →
/// `Secret` → strict base64 → PEM blocks → X.509 certificates and private key (OpenSSL) → key/certificate match
/// and chain check → archive and metadata.
///
/// Properties beyond "no crash":
/// - a refusal never quotes the secret: no `data` value of 16 or more characters (base64 of key material)
///   appears in the error's text;
/// - a bundle that validates serves exactly the bytes the base64 values decode to, and says its key matches.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSecretBundle(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = inputBytes(data, size)
    guard let secret = try? JSONDecoder().decode(Secret.self, from: Data(bytes)) else { return 0 }
    let secretData = secret.data ?? [:]
    let files: BundleFiles
    do {
        files = try BundleFiles(secretData: secretData)
    } catch {
        requireQuotesNoValue(error, secretData)
        return 0
    }
    let bundle: ValidatedBundle
    do {
        bundle = try ValidatedBundle(validating: files)
    } catch {
        requireQuotesNoValue(error, secretData)
        return 0
    }
    for (name, contents) in [("ca", files.ca), ("certificate", files.certificate), ("key", files.key)] {
        let key = name == "ca" ? files.keys.ca : name == "certificate" ? files.keys.certificate : files.keys.key
        let decoded = secretData[key].flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) }
        require(decoded == contents, "\(name) is not the decoded value of \(key)")
    }
    require(bundle.metadata.key.matchesCertificate, "a validated bundle whose key does not match")
    require(!bundle.archive().isEmpty && !bundle.metadataJSON().isEmpty, "a validated bundle renders nothing")
    return 0
}

func requireQuotesNoValue(_ error: BundleError, _ secretData: [String: String]) {
    let text = error.description
    for value in secretData.values where value.utf8.count >= 16 {
        require(!text.contains(value), "the error quotes a secret value: \(text)")
    }
}
