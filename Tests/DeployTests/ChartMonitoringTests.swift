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

    /// The rendered rules parse (`promtool check rules`, templates included), and each alert fires on the series
    /// it is about and stays quiet otherwise (`promtool test rules`, synthetic series; time() starts at 0).
    /// promtool comes with Debian's `prometheus` package (.ci/run installs it).
    @Test func prometheusRulesParseAndFireOnTheSeriesTheyAreAbout() throws {
        let rendered = try RenderedChart(kubeVersion: "1.30.0", set: ["metrics.prometheusRule.enabled=true"], apiVersions: Self.monitoringAPI)
        #expect(rendered.only("PrometheusRule") != nil)
        let scratch = try TemporaryDirectory("deploy-promtool")
        defer { scratch.remove() }
        let split = """
            import json, sys, yaml
            spec = [d for d in yaml.safe_load_all(sys.stdin) if d and d['kind'] == 'PrometheusRule'][0]['spec']
            json.dump(spec, open('rules.yaml', 'w'))
            for group in spec['groups']:
                for rule in group['rules']: rule.pop('annotations', None)
            json.dump(spec, open('rules-without-annotations.yaml', 'w'))
            """
        try DeployTool.python.run(["-c", split], stdin: Array(rendered.yaml.utf8), directory: scratch.path).succeeded("split rules")
        let check = try runCommand(["promtool", "check", "rules", "rules.yaml"], directory: scratch.path)
        #expect(check.status == 0, "promtool (apt-get install prometheus) check rules:\n\(check.stdoutText)\(check.stderrText)")
        #expect(check.stdoutText.contains("SUCCESS: 7 rules found"), "\(check.stdoutText)")
        let scope = "namespace=\"\(RenderedChart.namespace)\", service=\"\(RenderedChart.fullname)\""
        let labels = "namespace: \(RenderedChart.namespace)\n              service: \(RenderedChart.fullname)"
        try scratch.write("tests.yaml", """
            rule_files: [rules-without-annotations.yaml]
            evaluation_interval: 1m
            tests:
              - interval: 1m
                input_series:
                  - series: 'helm_cert_server_certificate_not_after_seconds{bundle="helm", file="cert.pem", \(scope)}'
                    values: '864000x20'
                  - series: 'helm_cert_server_certificate_not_after_seconds{bundle="helm", file="ca.pem", \(scope)}'
                    values: '1000000000x20'
                  - series: 'helm_cert_server_certificate_not_after_seconds{bundle="helm", file="tiller-server", \(scope)}'
                    values: '432000x20'
                  - series: 'helm_cert_server_certificate_not_after_seconds{bundle="server", file="tls.crt", \(scope)}'
                    values: '1728000x20'
                  - series: 'helm_cert_server_bundle_ready{pod="p1", \(scope)}'
                    values: '0x20'
                  - series: 'helm_cert_server_bundle_ready{pod="p2", \(scope)}'
                    values: '1x20'
                  - series: 'helm_cert_server_source_errors_total{kind="api", pod="p1", \(scope)}'
                    values: '0 0 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1'
                  - series: 'helm_cert_server_tiller_check_success{pod="p1", \(scope)}'
                    values: '0x20'
                alert_rule_test:
                  - eval_time: 4m
                    alertname: HelmCertServerBundleNotReady
                    exp_alerts: []
                  - eval_time: 6m
                    alertname: HelmCertServerBundleNotReady
                    exp_alerts:
                      - exp_labels:
                          severity: critical
                          pod: p1
                          \(labels)
                  - eval_time: 5m
                    alertname: HelmCertServerBundleCertificateExpiringSoon
                    exp_alerts:
                      - exp_labels:
                          severity: warning
                          bundle: helm
                          file: cert.pem
                          \(labels)
                  - eval_time: 5m
                    alertname: HelmCertServerBundleCertificateExpired
                    exp_alerts: []
                  - eval_time: 5m
                    alertname: HelmCertServerTillerCertificateExpiringSoon
                    exp_alerts:
                      - exp_labels:
                          severity: warning
                          bundle: helm
                          file: tiller-server
                          \(labels)
                  - eval_time: 5m
                    alertname: HelmCertServerServingCertificateExpiringSoon
                    exp_alerts:
                      - exp_labels:
                          severity: warning
                          bundle: server
                          file: tls.crt
                          \(labels)
                  - eval_time: 2m
                    alertname: HelmCertServerSourceErrors
                    exp_alerts: []
                  - eval_time: 5m
                    alertname: HelmCertServerSourceErrors
                    exp_alerts:
                      - exp_labels:
                          severity: warning
                          kind: api
                          pod: p1
                          \(labels)
                  - eval_time: 14m
                    alertname: HelmCertServerTillerCheckFailing
                    exp_alerts: []
                  - eval_time: 16m
                    alertname: HelmCertServerTillerCheckFailing
                    exp_alerts:
                      - exp_labels:
                          severity: warning
                          pod: p1
                          \(labels)
              - interval: 1m
                input_series:
                  - series: 'helm_cert_server_certificate_not_after_seconds{bundle="helm", file="cert.pem", \(scope)}'
                    values: '60x10'
                alert_rule_test:
                  - eval_time: 0m
                    alertname: HelmCertServerBundleCertificateExpired
                    exp_alerts: []
                  - eval_time: 2m
                    alertname: HelmCertServerBundleCertificateExpired
                    exp_alerts:
                      - exp_labels:
                          severity: critical
                          bundle: helm
                          file: cert.pem
                          \(labels)

            """)
        let test = try runCommand(["promtool", "test", "rules", "tests.yaml"], directory: scratch.path)
        #expect(test.status == 0, "promtool test rules:\n\(test.stdoutText)\(test.stderrText)")
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

