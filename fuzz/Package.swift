// swift-tools-version:6.0
import PackageDescription

/// Fuzz targets for helm-cert-server's parsers of untrusted bytes: one libFuzzer executable each.
///
/// A package of its own, so the service's build (and its release binary) never sees them. Build and run them
/// with `scripts/fuzz`, which says which flags and why: `-parse-as-library` (the targets have no `main`;
/// libFuzzer's calls `LLVMFuzzerTestOneInput`) and `-enable-testing` (they reach internal parsers —
/// `HTTPRequestParser`, `LineSplitter`, `WatchEvent`, `TLSContext` — through `@testable import`, as the
/// ordinary tests do).
let package = Package(
    name: "helm-cert-server-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "helm-cert-server", path: ".."),
    ],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(
            name: "http-request-head",
            dependencies: ["FuzzSupport", .product(name: "HTTPServer", package: "helm-cert-server")]),
        .executableTarget(
            name: "token-file",
            dependencies: ["FuzzSupport", .product(name: "HelmCertServer", package: "helm-cert-server")]),
        .executableTarget(
            name: "secret-bundle",
            dependencies: [
                "FuzzSupport",
                .product(name: "KubernetesClient", package: "helm-cert-server"),
                .product(name: "HelmBundle", package: "helm-cert-server"),
            ]),
        .executableTarget(
            name: "watch-stream",
            dependencies: [
                "FuzzSupport",
                .product(name: "KubernetesClient", package: "helm-cert-server"),
                .product(name: "HelmBundle", package: "helm-cert-server"),
            ]),
        .executableTarget(
            name: "pem-files",
            dependencies: [
                "FuzzSupport",
                .product(name: "HelmBundle", package: "helm-cert-server"),
                .product(name: "HTTPServer", package: "helm-cert-server"),
            ]),
    ]
)
