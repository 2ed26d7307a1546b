// Thread CPU time per call of the issuing API (CLOCK_THREAD_CPUTIME_ID, so other processes on a shared machine
// do not count), median / p99 / max over N calls, one line per operation. Prints figures; judges nothing.
import Foundation
import HelmBundle

func threadMicroseconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) * 1e6 + Double(time.tv_nsec) / 1e3
}

func measure(_ name: String, _ count: Int, _ body: () throws -> Void) rethrows {
    var samples: [Double] = []
    for _ in 0..<count {
        let start = threadMicroseconds()
        try body()
        samples.append(threadMicroseconds() - start)
    }
    samples.sort()
    let line = [
        name.padding(toLength: 44, withPad: " ", startingAt: 0), "n=\(count)",
        "median \(Int(samples[count / 2].rounded())) µs", "p99 \(Int(samples[count * 99 / 100].rounded())) µs",
        "max \(Int(samples[count - 1].rounded())) µs",
    ]
    print(line.joined(separator: "  "))
}

/// A PEM CSR for a new key made by `openssl req -newkey ARGS`.
func certificateSigningRequest(_ newKey: [String]) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["openssl", "req", "-new", "-newkey"] + newKey + ["-nodes", "-subj", "/CN=me", "-keyout", "/dev/null"]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let pem = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return [UInt8](pem)
}

let pki = try DevelopmentPKI.generate()
let authority = try CertificateAuthority(secretData: pki.issuerSecretData, bundleCA: pki.bundle.ca)
let requests = [
    ("P-256", try certificateSigningRequest(["ec", "-pkeyopt", "ec_paramgen_curve:P-256"])),
    ("RSA-2048", try certificateSigningRequest(["rsa:2048"])),
    ("RSA-4096", try certificateSigningRequest(["rsa:4096"])),
]
let publicKey = try PersonalKey.generate().publicKey

try measure("PersonalKey.generate(.ecdsaP256)", 2000) { _ = try PersonalKey.generate(.ecdsaP256) }
try measure("PersonalKey.generate(.rsa2048)", 200) { _ = try PersonalKey.generate(.rsa2048) }
let key = try PersonalKey.generate()
try measure("PersonalKey.pkcs8PEM() (P-256)", 2000) { _ = try key.pkcs8PEM() }
for (name, pem) in requests {
    try measure("CertificateSigningRequest(pem:) \(name)", 2000) { _ = try CertificateSigningRequest(pem: pem) }
}
try measure("issueClientCertificate (P-256 CA)", 2000) {
    _ = try authority.issueClientCertificate(commonName: "jane@example.com", publicKey: publicKey, ttl: .seconds(8 * 3600))
}
try measure("CertificateAuthority(secretData:bundleCA:)", 2000) {
    _ = try CertificateAuthority(secretData: pki.issuerSecretData, bundleCA: pki.bundle.ca)
}
