// swift-tools-version:6.0
import PackageDescription

/// helm-cert-server: serves Kyma's Helm client TLS bundle over authenticated HTTPS.
///
/// Module map (one job each):
/// - `CLibSSL`, `CLibCurl`, `CZlib`: system libraries (OpenSSL, libcurl, zlib).
/// - `CSSLShims`, `CCurlShims`: typed C wrappers for the macros and variadic calls Swift cannot see;
///   `CCurlShims` also loads libcurl on first use (`dlopen`), so a server that never calls the API never maps it.
/// - `CEventShims`: epoll, eventfd and accept4, which Swift's Glibc module does not expose.
/// - `FileContents`: reading a whole small file with POSIX calls (token files, mounted secret keys).
/// - `HTTPServer`: epoll event loops, HTTP/1.1 parsing, TLS via OpenSSL. Knows nothing about certificates.
/// - `KubernetesClient`: the Kubernetes API through libcurl (GET, watch). Knows nothing about serving.
/// - `HelmBundle`: decode, validate and render the Helm TLS bundle (PEM, tar.gz, JSON metadata).
/// - `HelmCertServer`: the service: routes, authentication, bundle sources, wiring.
/// - `helm-cert-server`: the command line.
let package = Package(
    name: "helm-cert-server",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "helm-cert-server", targets: ["helm-cert-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(name: "CLibSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // Headers only (no pkgConfig, so no -lcurl): CCurlShims loads libcurl.so.4 when the Kubernetes API is
        // first used. <curl/curl.h> is found in the default include path (Debian: /usr/include/<multiarch>/curl).
        .systemLibrary(name: "CLibCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CSSLShims", dependencies: ["CLibSSL"]),
        .target(name: "CCurlShims", dependencies: ["CLibCurl"], linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CEventShims"),
        .target(name: "FileContents"),
        .target(
            name: "HTTPServer",
            dependencies: ["CLibSSL", "CSSLShims", "CEventShims", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "KubernetesClient",
            dependencies: ["CLibCurl", "CCurlShims", "FileContents", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "HelmBundle", dependencies: ["CLibSSL", "CSSLShims", "CZlib", "FileContents"]),
        .target(
            name: "HelmCertServer",
            dependencies: [
                "HTTPServer", "KubernetesClient", "HelmBundle", "FileContents", "CLibSSL",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "helm-cert-server",
            dependencies: [
                "HelmCertServer", "FileContents",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .target(name: "TestSupport", dependencies: ["HelmBundle"], path: "Tests/TestSupport"),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "TestSupport"]),
        .testTarget(name: "KubernetesClientTests", dependencies: ["KubernetesClient", "TestSupport"]),
        .testTarget(name: "HelmBundleTests", dependencies: ["HelmBundle", "TestSupport"]),
        .testTarget(name: "HelmCertServerTests", dependencies: ["HelmCertServer", "FileContents", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport", "HelmBundle"]),
        .testTarget(name: "DeployTests", dependencies: ["TestSupport"]),
    ]
)
