import Foundation
import Testing
import TestSupport

/// `helm lint --strict` accepts the chart, and the templates stay within what Helm 2.16 can render.
@Suite struct ChartLintTests {
    @Test(arguments: [["--set", "image.repository=\(ChartValues.imageRepository)"], ["--values", "chart/ci/all-options-values.yaml"],
                      ["--values", "chart/ci/existing-secrets-values.yaml"]])
    func helmLintStrictPasses(values: [String]) throws {
        let arguments = ["lint", "--strict", "chart"] + values
        let result = try DeployTool.helm.run(arguments)
        #expect(result.status == 0, "helm \(arguments.joined(separator: " ")):\n\(result.stdoutText)\(result.stderrText)")
        #expect(result.stdoutText.contains("1 chart(s) linted, 0 chart(s) failed"))
    }

    @Test func chartYamlIsApiVersionV1WithoutHelm3OnlyFields() throws {
        let chart = try String(contentsOfFile: "\(packageRoot)/chart/Chart.yaml", encoding: .utf8)
        let keys = chart.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix(" ") && $0.contains(":") }
            .map { String($0.split(separator: ":")[0]) }
        #expect(keys.contains("apiVersion") && chart.contains("apiVersion: v1"))
        for helm3Only in ["type", "dependencies"] {
            #expect(!keys.contains(helm3Only), "Chart.yaml v1 (Helm 2) has no \(helm3Only)")
        }
    }

    /// Helm 2.16's template functions (Sprig 2.20 + Helm's own) lack these; Go templates fail to parse a file that
    /// names an unknown function even in a branch never taken, so they must not appear under templates/ at all.
    /// (files/ecdsa-serving-cert.tpl is run through `tpl` only under Helm >= 3.5.)
    @Test func templatesNameNoFunctionHelm216Lacks() throws {
        let helm3Only = ["lookup", "dig", "fromYamlArray", "fromJsonArray", "genCAWithKey", "genSignedCertWithKey",
                         "genSelfSignedCertWithKey", "getHostByName", "toToml", "mustToJson", "mustRegexMatch"]
        let folder = "\(packageRoot)/chart/templates"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(files.contains("deployment.yaml"))
        for file in files {
            let text = try String(contentsOfFile: "\(folder)/\(file)", encoding: .utf8)
            let actions = text.split(separator: "{{").dropFirst().map { $0.split(separator: "}}").first ?? "" }
                .filter { !$0.hasPrefix("/*") && !$0.hasPrefix("- /*") }
            for action in actions {
                let words = action.split { !($0.isLetter || $0.isNumber) }
                for word in words where helm3Only.contains(String(word)) {
                    Issue.record("\(file) uses \(word), which Helm 2.16 lacks: {{\(action)}}")
                }
            }
        }
    }
}
