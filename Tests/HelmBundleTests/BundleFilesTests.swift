import Foundation
import HelmBundle
import Testing
import TestSupport

@Suite("BundleFiles(secretData:) decodes a Secret's data map")
struct BundleFilesTests {
    @Test("reads Kyma's global.helm.* keys, byte for byte")
    func kymaKeys() throws {
        let files = try PKIFixtures.goodBundle()
        let decoded = try BundleFiles(secretData: PKIFixtures.secretData(files, keys: .kyma))
        #expect(decoded == files)
        #expect(decoded.keys == .kyma)
    }

    @Test("falls back to the kubernetes.io/tls keys ca.crt, tls.crt, tls.key")
    func kubernetesTLSFallback() throws {
        let files = try PKIFixtures.goodBundle()
        let decoded = try BundleFiles(secretData: PKIFixtures.secretData(files, keys: .kubernetesTLS))
        #expect(decoded == files)
        #expect(decoded.keys == .kubernetesTLS)
    }

    @Test("prefers the Kyma key where both are present, per file")
    func kymaKeyWinsPerFile() throws {
        let files = try PKIFixtures.goodBundle()
        let other = try PKIFixtures.goodBundle()
        var data = PKIFixtures.secretData(other, keys: .kubernetesTLS)
        data["global.helm.tls.key"] = Data(files.key).base64EncodedString()
        let decoded = try BundleFiles(secretData: data)
        #expect(decoded.key == files.key)
        #expect(decoded.ca == other.ca)
        #expect(decoded.keys == BundleKeys(ca: "ca.crt", certificate: "tls.crt", key: "global.helm.tls.key"))
    }

    @Test("accepts PKCS#1 and SEC1 keys as well as PKCS#8", arguments: PKIFixtures.Algorithm.allCases, PKIFixtures.KeyFormat.allCases)
    func keyFormats(algorithm: PKIFixtures.Algorithm, format: PKIFixtures.KeyFormat) throws {
        let files = try PKIFixtures.goodBundle(algorithm, keyFormat: format)
        let label = switch (format, algorithm) {
        case (.pkcs8, _), (_, .ed25519): "-----BEGIN PRIVATE KEY-----"
        case (.traditional, .rsa): "-----BEGIN RSA PRIVATE KEY-----"
        case (.traditional, .ecdsa): "-----BEGIN EC PRIVATE KEY-----"
        }
        #expect(String(decoding: files.key, as: UTF8.self).hasPrefix(label))
        let decoded = try BundleFiles(secretData: PKIFixtures.secretData(files))
        #expect(decoded.key == files.key)
    }

    @Test("accepts an SEC1 key preceded by its EC PARAMETERS block, as openssl ecparam -genkey writes it")
    func ecParametersBeforeKey() throws {
        let good = try PKIFixtures.goodBundle(.ecdsa, keyFormat: .traditional)
        let parameters = try PKIFixtures.openssl(["ecparam", "-name", "prime256v1"]).stdout
        #expect(String(decoding: parameters, as: UTF8.self).hasPrefix("-----BEGIN EC PARAMETERS-----"))
        var data = PKIFixtures.secretData(good)
        data["global.helm.tls.key"] = Data(parameters + good.key).base64EncodedString()
        let files = try BundleFiles(secretData: data)
        #expect(files.key == parameters + good.key, "served as stored, parameters and all")
        #expect(try ValidatedBundle(validating: files).metadata.key.algorithm == "EC")
    }

    @Test("accepts PEM files with Windows (CRLF) line endings, and serves them as stored")
    func crlfLineEndings() throws {
        let good = try PKIFixtures.goodBundle()
        func crlf(_ bytes: [UInt8]) -> [UInt8] {
            Array(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n").utf8)
        }
        var data = PKIFixtures.secretData(good)
        data["global.helm.ca.crt"] = Data(crlf(good.ca)).base64EncodedString()
        data["global.helm.tls.crt"] = Data(crlf(good.certificate)).base64EncodedString()
        data["global.helm.tls.key"] = Data(crlf(good.key)).base64EncodedString()
        let files = try BundleFiles(secretData: data)
        #expect(files.key == crlf(good.key) && files.key.contains(0x0D))
        let validated = try ValidatedBundle(validating: files)
        #expect(validated.metadata.chainVerified)
    }

    @Test("hands out each file by its helm name")
    func contentsOfHelmFile() throws {
        let files = try PKIFixtures.goodBundle()
        #expect(BundleFiles.helmFileNames == ["ca.pem", "cert.pem", "key.pem"])
        #expect(files.contents(ofHelmFile: "ca.pem") == files.ca)
        #expect(files.contents(ofHelmFile: "cert.pem") == files.certificate)
        #expect(files.contents(ofHelmFile: "key.pem") == files.key)
        #expect(files.contents(ofHelmFile: "tls.key") == nil)
    }

    @Test("prints sizes and sources, never the key bytes")
    func descriptionRedactsKey() throws {
        let files = try PKIFixtures.goodBundle()
        let keyLine = String(String(decoding: files.key, as: UTF8.self).split(separator: "\n")[1])
        var dumped = ""
        dump(files, to: &dumped)
        for text in ["\(files)", String(reflecting: files), dumped] {
            #expect(!text.contains(keyLine))
            #expect(!text.contains(String(describing: files.key.prefix(8))))
        }
        #expect("\(files)".contains("key: \(files.key.count) bytes from key.pem"))
    }

    @Test("decodes exactly what the real base64 -d decodes")
    func byteIdenticalToBase64Tool() throws {
        let files = try PKIFixtures.goodBundle(.rsa, keyFormat: .traditional)
        let data = PKIFixtures.secretData(files)
        let decoded = try BundleFiles(secretData: data)
        for (key, bytes) in [
            ("global.helm.ca.crt", decoded.ca), ("global.helm.tls.crt", decoded.certificate),
            ("global.helm.tls.key", decoded.key),
        ] {
            let tool = try runCommand(["base64", "-d"], stdin: Array(try #require(data[key]).utf8))
            #expect(tool.status == 0)
            #expect(bytes == tool.stdout, "\(key) differs from base64 -d")
        }
    }

    /// A way to spoil an otherwise good secret, and the error it must cause.
    enum BadSecret: String, CaseIterable, CustomTestStringConvertible {
        case noCAUnderEitherKey, noKeyUnderEitherKey
        case caIsNotBase64, certificateHasMissingPadding, keyHasExtraPadding, keyHasNonCanonicalBits
        case caHasEmbeddedNewline, certificateIsNotPEM, certificateIsDER, caIsAPrivateKey
        case keyIsACertificate, keyIsEncrypted, caIsEmpty, keyIsEmpty, fallbackKeyIsNotBase64

        var testDescription: String { rawValue }

        /// The key the error must name, and a fragment its reason must contain.
        var expected: (key: String, reason: String) {
            switch self {
            case .noCAUnderEitherKey: ("global.helm.ca.crt", "missing")
            case .noKeyUnderEitherKey: ("global.helm.tls.key", "missing")
            case .caIsNotBase64, .caHasEmbeddedNewline: ("global.helm.ca.crt", "base64")
            case .certificateHasMissingPadding: ("global.helm.tls.crt", "base64")
            case .keyHasExtraPadding, .keyHasNonCanonicalBits: ("global.helm.tls.key", "base64")
            case .certificateIsNotPEM, .certificateIsDER: ("global.helm.tls.crt", "no PEM CERTIFICATE")
            case .caIsAPrivateKey: ("global.helm.ca.crt", "private key, not a certificate")
            case .keyIsACertificate: ("global.helm.tls.key", "certificate, not a private key")
            case .keyIsEncrypted: ("global.helm.tls.key", "encrypted")
            case .caIsEmpty: ("global.helm.ca.crt", "empty")
            case .keyIsEmpty: ("global.helm.tls.key", "empty")
            case .fallbackKeyIsNotBase64: ("tls.crt", "base64")
            }
        }

        func spoil(_ data: inout [String: String], _ files: BundleFiles) throws {
            func encoded(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
            switch self {
            case .noCAUnderEitherKey: data["global.helm.ca.crt"] = nil
            case .noKeyUnderEitherKey: data["global.helm.tls.key"] = nil
            case .caIsNotBase64: data["global.helm.ca.crt"] = "not base64!!"
            case .certificateHasMissingPadding:
                var bytes = files.certificate
                while bytes.count % 3 != 1 { bytes.append(0x0A) }  // so that its base64 ends in "=="
                data["global.helm.tls.crt"] = String(encoded(bytes).dropLast(2))
            case .keyHasExtraPadding: data["global.helm.tls.key"] = encoded(files.key + [0x0A]) + "="
            case .keyHasNonCanonicalBits:
                // "Cg==" is "\n"; "Ch==" decodes to the same byte in lenient decoders but is not canonical.
                data["global.helm.tls.key"] = encoded(files.key) + "Ch=="
            case .caHasEmbeddedNewline:
                let value = try #require(data["global.helm.ca.crt"])
                data["global.helm.ca.crt"] = String(value.prefix(64)) + "\n" + String(value.dropFirst(64))
            case .certificateIsNotPEM: data["global.helm.tls.crt"] = encoded(Array("hello, world\n".utf8))
            case .certificateIsDER:
                let der = try PKIFixtures.openssl(["x509", "-outform", "DER"], stdin: files.certificate).stdout
                data["global.helm.tls.crt"] = encoded(der)
            case .caIsAPrivateKey: data["global.helm.ca.crt"] = encoded(files.key)
            case .keyIsACertificate: data["global.helm.tls.key"] = encoded(files.certificate)
            case .keyIsEncrypted:
                let encrypted = try PKIFixtures.openssl(
                    ["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:secret"], stdin: files.key).stdout
                data["global.helm.tls.key"] = encoded(encrypted)
            case .caIsEmpty: data["global.helm.ca.crt"] = ""
            case .keyIsEmpty: data["global.helm.tls.key"] = encoded(Array("\n".utf8))
            case .fallbackKeyIsNotBase64:
                data["global.helm.tls.crt"] = nil
                data["tls.crt"] = "%%%"
            }
        }
    }

    @Test("rejects a bad secret with an error naming the key", arguments: BadSecret.allCases)
    func rejectsBadSecret(_ bad: BadSecret) throws {
        let files = try PKIFixtures.goodBundle()
        var data = PKIFixtures.secretData(files)
        try bad.spoil(&data, files)
        let error = try #require(throws: BundleError.self) { try BundleFiles(secretData: data) }
        #expect(error.key == bad.expected.key)
        #expect(error.reason.contains(bad.expected.reason), "reason was: \(error.reason)")
        #expect(error.description.hasPrefix(bad.expected.key + " "))
    }

    @Test("never puts secret bytes into its errors")
    func errorsCarryNoKeyMaterial() throws {
        let files = try PKIFixtures.goodBundle()
        var data = PKIFixtures.secretData(files)
        data["global.helm.ca.crt"] = data["global.helm.tls.key"]  // a key where the CA belongs
        let error = try #require(throws: BundleError.self) { try BundleFiles(secretData: data) }
        let keyBody = String(decoding: files.key, as: UTF8.self).split(separator: "\n")[1]
        #expect(!error.description.contains(keyBody))
        #expect(!error.description.contains(try #require(data["global.helm.tls.key"]).prefix(20)))
    }
}
