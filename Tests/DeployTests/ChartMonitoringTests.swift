import Foundation
import Testing
import TestSupport

/// Monitoring out of the box: a ServiceMonitor and a PrometheusRule, each only when enabled and where the cluster
/// serves monitoring.coreos.com/v1, and a Grafana dashboard ConfigMap for the sidecar.
@Suite struct ChartMonitoringTests {
    static let monitoringAPI = ["monitoring.coreos.com/v1"]

    @Test func nothingIsRenderedWhereThePrometheusOperatorIsMissingOrWhenNotEnabled() throws {
        let withoutAPI = try ChartValues.allOptions.render(kubeVersion: "1.30.0")
        #expect(withoutAPI.objects(ofKind: "ServiceMonitor").isEmpty && withoutAPI.objects(ofKind: "PrometheusRule").isEmpty)
        let notEnabled = try RenderedChart(kubeVersion: "1.30.0", apiVersions: Self.monitoringAPI)
        #expect(notEnabled.objects(ofKind: "ServiceMonitor").isEmpty && notEnabled.objects(ofKind: "PrometheusRule").isEmpty)
        #expect(notEnabled.objects(ofKind: "ConfigMap").isEmpty)
    }

    @Test func serviceMonitorScrapesMetricsOverHTTPSVerifiedWithTheGeneratedCA() throws {
        let rendered = try ChartValues.allOptions.render(kubeVersion: "1.30.0", apiVersions: Self.monitoringAPI)
        let monitor = try #require(rendered.only("ServiceMonitor"))
        #expect(monitor["metadata"]["labels"]["release"].string == "monitoring")
        let service = try #require(rendered.only("Service"))
        for (key, value) in [("app.kubernetes.io/name", "helm-cert-server"), ("app.kubernetes.io/instance", RenderedChart.release)] {
            #expect(monitor["spec"]["selector"]["matchLabels"][key].string == value)
            #expect(service["metadata"]["labels"][key].string == value, "the ServiceMonitor selects the Service")
        }
        let endpoint = monitor["spec"]["endpoints"][0]
        #expect(endpoint["port"].string == service["spec"]["ports"][0]["name"].string)
        #expect(endpoint["scheme"].string == "https" && endpoint["path"].string == "/metrics" && endpoint["interval"].string == "60s")
        #expect(endpoint["tlsConfig"]["ca"]["secret"]["name"].string == "\(RenderedChart.fullname)-tls")
        #expect(endpoint["tlsConfig"]["ca"]["secret"]["key"].string == "ca.crt")
        #expect(endpoint["tlsConfig"]["serverName"].string == "\(RenderedChart.fullname).\(RenderedChart.namespace).svc")
    }

    @Test func prometheusRuleAlertsOnExpiryReadinessSourceErrorsAndTiller() throws {
        let rendered = try RenderedChart(kubeVersion: "1.30.0", set: ["metrics.prometheusRule.enabled=true"], apiVersions: Self.monitoringAPI)
        let rule = try #require(rendered.only("PrometheusRule"))
        let rules = rule["spec"]["groups"][0]["rules"].array
        let byName = Dictionary(uniqueKeysWithValues: rules.map { ($0["alert"].string ?? "", $0) })
        let scope = "namespace=\"\(RenderedChart.namespace)\", service=\"\(RenderedChart.fullname)\""
        let expected: [(String, String, String?)] = [
            ("HelmCertServerBundleCertificateExpiringSoon",
             "helm_cert_server_certificate_not_after_seconds{bundle=\"helm\", file!=\"tiller-server\", \(scope)} - time() < 2592000", nil),
            ("HelmCertServerBundleCertificateExpired",
             "helm_cert_server_certificate_not_after_seconds{bundle=\"helm\", \(scope)} - time() <= 0", nil),
            ("HelmCertServerBundleNotReady", "helm_cert_server_bundle_ready{\(scope)} == 0", "5m"),
            ("HelmCertServerSourceErrors", "increase(helm_cert_server_source_errors_total{\(scope)}[15m]) > 0", nil),
            ("HelmCertServerServingCertificateExpiringSoon",
             "helm_cert_server_certificate_not_after_seconds{bundle=\"server\", \(scope)} - time() < 2592000", nil),
            ("HelmCertServerTillerCheckFailing", "helm_cert_server_tiller_check_success{\(scope)} == 0", "15m"),
            ("HelmCertServerTillerCertificateExpiringSoon",
             "helm_cert_server_certificate_not_after_seconds{bundle=\"helm\", file=\"tiller-server\", \(scope)} - time() < 2592000", nil),
        ]
        #expect(byName.keys.sorted() == expected.map(\.0).sorted())
        for (name, expr, duration) in expected {
            let alert = try #require(byName[name])
            #expect(alert["expr"].string == expr, "\(name)")
            #expect(alert["for"].string == duration, "\(name)")
            #expect(["warning", "critical"].contains(alert["labels"]["severity"].string ?? ""), "\(name)")
            #expect(alert["annotations"]["description"].string?.isEmpty == false, "\(name)")
        }
    }

    @Test func expiryWarningDaysMovesTheExpiryAlerts() throws {
        let rendered = try ChartValues.allOptions.render(kubeVersion: "1.30.0", apiVersions: Self.monitoringAPI)
        let rules = try #require(rendered.only("PrometheusRule"))["spec"]["groups"][0]["rules"].array
        let expiring = rules.filter { ($0["alert"].string ?? "").hasSuffix("ExpiringSoon") }
        #expect(expiring.count == 3)
        #expect(expiring.allSatisfy { $0["expr"].string?.hasSuffix("< \(21 * 86400)") == true })
    }

    @Test func dashboardConfigMapCarriesTheSidecarLabelAndChartsExpiryRequestsAndAuthFailures() throws {
        let rendered = try ChartValues.allOptions.render(kubeVersion: "1.30.0")
        let map = try #require(rendered.object("ConfigMap", named: "\(RenderedChart.fullname)-dashboard"))
        #expect(map["metadata"]["labels"]["grafana_dashboard"].string == "1")
        #expect(map["metadata"]["namespace"].string == "kyma-system")
        let json = try #require(map["data"]["helm-cert-server.json"].string)
        let dashboard = try JSONValue.parse(Array(json.utf8))
        let expressions = dashboard["panels"].array.flatMap { $0["targets"].array.compactMap { $0["expr"].string } }
        for metric in ["helm_cert_server_certificate_not_after_seconds", "helm_cert_server_requests_total",
                       "helm_cert_server_auth_failures_total", "helm_cert_server_bundle_ready"] {
            #expect(expressions.contains { $0.contains(metric) }, "a panel shows \(metric)")
        }
        #expect(expressions.contains { $0.contains("by (route, status)") })
    }
}
