/// The release this binary is, in one place: `--version` prints it and `/metrics` exports it as
/// `helm_cert_server_build_info{version="…"} 1`. Keep it equal to the chart's `appVersion` and openapi.yaml's
/// `info.version` when releasing.
public let helmCertServerVersion = "0.1.0"
