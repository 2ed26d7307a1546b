import CLibSSL
import CSSLShims

/// Whether `leaf` verifies against the trust anchors, the way `helm`'s peer would check it.
///
/// Signatures and chain structure are checked; validity dates are not (`X509_V_FLAG_NO_CHECK_TIME`), since an
/// expired bundle is still the bundle (expiry is reported separately). Every certificate in `anchors` is a
/// trust anchor even if it is not self-signed (`X509_V_FLAG_PARTIAL_CHAIN`), as in Go's `x509.CertPool`.
///
/// - Parameters:
///   - leaf: the client certificate.
///   - intermediates: certificates that followed the leaf in `cert.pem` (untrusted).
///   - anchors: the certificates from `ca.pem`.
func chainVerifies(leaf: Certificate, intermediates: [Certificate], anchors: [Certificate]) -> Bool {
    defer { drainErrorQueue() }
    guard let store = X509_STORE_new() else { return false }
    defer { X509_STORE_free(store) }
    for anchor in anchors {
        // X509_STORE_add_cert takes its own reference.
        guard X509_STORE_add_cert(store, anchor.pointer) == 1 else { return false }
    }
    X509_STORE_set_flags(store, UInt(X509_V_FLAG_NO_CHECK_TIME | X509_V_FLAG_PARTIAL_CHAIN))

    guard let untrusted = cshim_sk_X509_new_null() else { return false }
    defer { cshim_sk_X509_pop_free(untrusted) }
    for intermediate in intermediates {
        // The stack frees what it holds, so give it a reference of its own.
        X509_up_ref(intermediate.pointer)
        guard cshim_sk_X509_push(untrusted, intermediate.pointer) > 0 else {
            X509_free(intermediate.pointer)
            return false
        }
    }

    guard let context = X509_STORE_CTX_new() else { return false }
    defer { X509_STORE_CTX_free(context) }
    guard X509_STORE_CTX_init(context, store, leaf.pointer, untrusted) == 1 else { return false }
    return X509_verify_cert(context) == 1
}
