// swift-tools-version:6.0
import PackageDescription

/// What the signing core of personal client certificates (issue 16) costs in CPU per call: key generation, CSR
/// checking, issuing, reading the issuer Secret. A package of its own (like fuzz/), so the service's build never
/// sees it. Run: `swift run -c release --package-path bench/issuing_cost` (needs `openssl` on PATH for the CSRs).
let package = Package(
    name: "issuing-cost",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "helm-cert-server", path: "../..")],
    targets: [
        .executableTarget(name: "issuing-cost", dependencies: [.product(name: "HelmBundle", package: "helm-cert-server")]),
    ]
)
