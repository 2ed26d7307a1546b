// swift-tools-version:6.0
import PackageDescription

/// Fuzz targets for helm-cert-server's parsers of untrusted bytes: one libFuzzer executable each.
///
/// A package of its own, so the service's build (and its release binary) never sees them. Build and run them
/// with `scripts/fuzz`, which says which flags and why: `-parse-as-library` (the targets have no `main`;
/// libFuzzer's calls `LLVMFuzzerTestOneInput`) and `-enable-testing` (they reach internal parsers —
/// `HTTPRequestParser`, `LineSplitter`, `WatchEvent`, `TLSContext` — through `@testable import`, as the
/// ordinary tests do).
/// A libFuzzer executable named `name` (its sources in `Sources/name`) over the root package's `modules`.
func fuzzTarget(_ name: String, _ modules: String...) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["FuzzSupport"] + modules.map { .product(name: $0, package: "helm-cert-server") })
}

let package = Package(
    name: "helm-cert-server-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "helm-cert-server", path: ".."),
    ],
    targets: [
        .target(name: "FuzzSupport"),
        fuzzTarget("http-request-head", "HTTPServer"),
        fuzzTarget("token-file", "HelmCertServer"),
        fuzzTarget("secret-bundle", "KubernetesClient", "HelmBundle"),
        fuzzTarget("watch-stream", "KubernetesClient", "HelmBundle"),
        fuzzTarget("pem-files", "HelmBundle", "HTTPServer"),
        fuzzTarget("certificate-signing-request", "HelmBundle"),
    ]
)
