import Foundation
import Testing
import TestSupport

/// NOTES.txt (what `helm install` prints) tells how to read the token and the CA and fetch the bundle, with the
/// names of the objects the chart really renders. `helm template` skips NOTES.txt, so a copy of the chart gets a
/// probe template that includes it into a ConfigMap.
@Suite struct ChartNotesTests {
    static func renderNotes(set: [String] = []) throws -> String {
        let directory = try TemporaryDirectory("deploy-notes")
        defer { directory.remove() }
        try runCommand(["cp", "-R", "\(packageRoot)/chart", directory.file("chart")]).succeeded("copy chart")
        try directory.write("chart/templates/zz-notes-probe.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: notes-probe
            data:
              NOTES.txt: {{ include "helm-cert-server/templates/NOTES.txt" . | quote }}

            """)
        var arguments = ["template", RenderedChart.release, directory.file("chart"), "--namespace", RenderedChart.namespace,
                         "--show-only", "templates/zz-notes-probe.yaml"]
        for assignment in set { arguments += ["--set", assignment] }
        let yaml = try DeployTool.helm.run(arguments).succeeded("helm template NOTES probe").stdout
        let read = "import sys, yaml; sys.stdout.write(yaml.safe_load(sys.stdin)['data']['NOTES.txt'])"
        return try DeployTool.python.run(["-c", read], stdin: yaml).succeeded("read NOTES").stdoutText
    }

    @Test func notesTellHowToReadTheTokenAndCAFromTheRenderedSecrets() throws {
        let notes = try Self.renderNotes()
        let service = RenderedChart.fullname, namespace = RenderedChart.namespace
        #expect(notes.contains("kubectl -n \(namespace) get secret \(service)-tokens -o jsonpath='{.data.tokens\\.csv}' | base64 --decode"))
        #expect(notes.contains("kubectl -n \(namespace) get secret \(service)-tls -o jsonpath='{.data.ca\\.crt}' | base64 --decode"))
        #expect(!notes.contains("base64 -D"), "macOS-only flag (kyma #3325)")
        let rendered = try ChartValues.defaults.render(kubeVersion: "1.30.0")
        #expect(rendered.object("Secret", named: "\(service)-tokens")?["data"]["tokens.csv"].string != nil)
        #expect(rendered.object("Secret", named: "\(service)-tls")?["data"]["ca.crt"].string != nil)
    }

    @Test func notesCurlLineFetchesTheBundleThroughAPortForwardWithTheCertificatesName() throws {
        let notes = try Self.renderNotes()
        let host = "\(RenderedChart.fullname).\(RenderedChart.namespace).svc"
        #expect(notes.contains("kubectl -n \(RenderedChart.namespace) port-forward service/\(RenderedChart.fullname) 8443:443"))
        #expect(notes.contains("curl --fail --cacert helm-cert-server-ca.crt --resolve \(host):8443:127.0.0.1"))
        #expect(notes.contains("-H \"Authorization: Bearer $TOKEN\""))
        #expect(notes.contains("https://\(host):8443/v1/bundles/helm/bundle.tar.gz"))
    }

    @Test func notesFollowTheServicePortAndIngress() throws {
        let notes = try Self.renderNotes(set: ["service.port=9443", "ingress.enabled=true", "ingress.host=certs.example.org"])
        #expect(notes.contains("port-forward service/\(RenderedChart.fullname) 8443:9443"))
        #expect(notes.contains("https://certs.example.org/v1/bundles/helm/bundle.tar.gz"))
    }
}
