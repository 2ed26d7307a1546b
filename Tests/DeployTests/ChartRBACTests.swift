import Testing

/// Least privilege: the service may read exactly one Secret, in that Secret's namespace, and nothing more.
@Suite struct ChartRBACTests {
    @Test(arguments: ChartValues.allCases, kubeVersions)
    func roleAllowsOnlyReadingTheOneSecretInItsNamespace(values: ChartValues, kubeVersion: String) throws {
        let rendered = try values.render(kubeVersion: kubeVersion)
        let expectedNamespace = values == .allOptions ? "kyma-system" : "kyma-installer"
        let expectedSecret = values == .allOptions ? "helm-client-certs" : "helm-secret"
        let role = try #require(rendered.object("Role", named: RenderedChart.fullname))
        #expect(role["metadata"]["namespace"].string == expectedNamespace)
        let rules = role["rules"].array
        #expect(rules.count == 1)
        #expect(rules.first?["apiGroups"].strings == [""])
        #expect(rules.first?["resources"].strings == ["secrets"])
        #expect(rules.first?["resourceNames"].strings == [expectedSecret])
        #expect(rules.first?["verbs"].strings.sorted() == ["get", "list", "watch"])
    }

    @Test(arguments: kubeVersions)
    func roleAndArgumentsFollowTheSecretsNamespaceAndName(kubeVersion: String) throws {
        let rendered = try RenderedChart(kubeVersion: kubeVersion, set: ["source.namespace=tiller-land", "source.secret=tiller-client"])
        let role = try #require(rendered.object("Role", named: RenderedChart.fullname))
        #expect(role["metadata"]["namespace"].string == "tiller-land")
        #expect(role["rules"][0]["resourceNames"].strings == ["tiller-client"])
        let binding = try #require(rendered.object("RoleBinding", named: RenderedChart.fullname))
        #expect(binding["metadata"]["namespace"].string == "tiller-land")
        let arguments = try #require(rendered.only("Deployment"))["spec"]["template"]["spec"]["containers"][0]["args"].strings
        #expect(arguments.contains("--namespace=tiller-land"))
        #expect(arguments.contains("--secret=tiller-client"))
    }

    @Test(arguments: ChartValues.allCases, kubeVersions)
    func roleBindingBindsTheServiceAccountOfTheRelease(values: ChartValues, kubeVersion: String) throws {
        let rendered = try values.render(kubeVersion: kubeVersion)
        let binding = try #require(rendered.object("RoleBinding", named: RenderedChart.fullname))
        #expect(binding["roleRef"]["kind"].string == "Role")
        #expect(binding["roleRef"]["name"].string == RenderedChart.fullname)
        #expect(binding["subjects"].array.count == 1)
        #expect(binding["subjects"][0]["kind"].string == "ServiceAccount")
        #expect(binding["subjects"][0]["namespace"].string == RenderedChart.namespace)
        let account = try #require(rendered.only("ServiceAccount"))
        let accountName = try #require(account["metadata"]["name"].string)
        #expect(binding["subjects"][0]["name"].string == accountName)
        #expect(rendered.only("Deployment")?["spec"]["template"]["spec"]["serviceAccountName"].string == accountName)
        // The release's name unless values name it (all-options does: serviceAccount.name).
        #expect(accountName == (values == .allOptions ? "helm-cert-server-reader" : RenderedChart.fullname))
    }

    /// No ClusterRole at all; no rule anywhere grants secrets except that one Role (and, with an issuer Secret in
    /// another namespace, the Role for that one Secret there); no wildcard anywhere.
    @Test(arguments: ChartValues.allCases, kubeVersions)
    func nothingElseCanReadSecrets(values: ChartValues, kubeVersion: String) throws {
        let rendered = try values.render(kubeVersion: kubeVersion)
        #expect(rendered.objects(ofKind: "ClusterRole").isEmpty)
        for object in rendered.objects(ofKind: "Role") + rendered.objects(ofKind: "ClusterRole") {
            for rule in object["rules"].array {
                let everything = rule["resources"].strings + rule["verbs"].strings + rule["apiGroups"].strings
                #expect(!everything.contains("*"), "wildcard in \(object["metadata"]["name"])")
                if rule["resources"].strings.contains("secrets") {
                    #expect([RenderedChart.fullname, "\(RenderedChart.fullname)-issuer"].contains(object["metadata"]["name"].string ?? ""))
                    #expect(rule["resourceNames"].strings.allSatisfy { ["helm-secret", "helm-client-certs", "helm-issuer-ca"].contains($0) })
                }
            }
        }
        for binding in rendered.objects(ofKind: "ClusterRoleBinding") {
            #expect(binding["roleRef"]["name"].string == "system:auth-delegator", "only --kube-auth binds a ClusterRole")
        }
    }

    @Test func theKubeAuthAudienceCanBeSet() throws {
        let rendered = try RenderedChart(kubeVersion: "1.30.0", set: ["kubeAuth.enabled=true", "kubeAuth.audience=helm-certs"])
        let arguments = try #require(rendered.only("Deployment"))["spec"]["template"]["spec"]["containers"][0]["args"].strings
        #expect(arguments.filter { $0.hasPrefix("--kube-auth-audience") } == ["--kube-auth-audience=helm-certs"])
    }

    @Test(arguments: kubeVersions)
    func kubeAuthIsOffByDefault(kubeVersion: String) throws {
        let rendered = try ChartValues.defaults.render(kubeVersion: kubeVersion)
        #expect(rendered.objects(ofKind: "ClusterRoleBinding").isEmpty)
        #expect(rendered.object("Role", named: "\(RenderedChart.fullname)-bundle-reader") == nil)
        let arguments = try #require(rendered.only("Deployment"))["spec"]["template"]["spec"]["containers"][0]["args"].strings
        #expect(!arguments.contains("--kube-auth"))
        #expect(!arguments.contains { $0.hasPrefix("--kube-auth-audience") })
    }

    @Test(arguments: kubeVersions)
    func kubeAuthDelegatesToTheAPIServerAndShowsWhoMayReadTheBundle(kubeVersion: String) throws {
        let rendered = try RenderedChart(kubeVersion: kubeVersion, set: ["kubeAuth.enabled=true"])
        let arguments = try #require(rendered.only("Deployment"))["spec"]["template"]["spec"]["containers"][0]["args"].strings
        #expect(arguments.contains("--kube-auth"))
        #expect(arguments.contains("--kube-auth-audience=https://\(RenderedChart.fullname).\(RenderedChart.namespace).svc"),
                "only tokens minted for this Service: \(arguments)")
        let delegation = try #require(rendered.only("ClusterRoleBinding"))
        #expect(delegation["roleRef"]["kind"].string == "ClusterRole")
        #expect(delegation["roleRef"]["name"].string == "system:auth-delegator")
        #expect(delegation["subjects"][0]["name"].string == RenderedChart.fullname)
        #expect(delegation["subjects"][0]["namespace"].string == RenderedChart.namespace)
        let example = try #require(rendered.object("Role", named: "\(RenderedChart.fullname)-bundle-reader"))
        #expect(example["metadata"]["namespace"].string == "kyma-installer")
        #expect(example["rules"].array.count == 1)
        #expect(example["rules"][0]["apiGroups"].strings == ["helm-cert-server.kyma-project.io"])
        #expect(example["rules"][0]["resources"].strings == ["bundles"])
        #expect(example["rules"][0]["resourceNames"].strings == ["helm"])
        #expect(example["rules"][0]["verbs"].strings == ["get"])
    }

    @Test(arguments: kubeVersions)
    func issuingIsOffByDefaultAndTheSharedKeyServed(kubeVersion: String) throws {
        let rendered = try ChartValues.defaults.render(kubeVersion: kubeVersion)
        let arguments = try #require(rendered.only("Deployment"))["spec"]["template"]["spec"]["containers"][0]["args"].strings
        #expect(!arguments.contains { $0.hasPrefix("--issuer-secret") || $0.hasPrefix("--issue-max-ttl") })
        #expect(!arguments.contains("--no-shared-key"))
        #expect(rendered.object("Role", named: "\(RenderedChart.fullname)-issuer") == nil)
        #expect(rendered.object("Role", named: "\(RenderedChart.fullname)-certificate-requester") == nil)
    }

    @Test(arguments: kubeVersions)
    func anIssuerSecretInTheSourceNamespaceJoinsTheOneRole(kubeVersion: String) throws {
        let rendered = try RenderedChart(kubeVersion: kubeVersion, set: [
            "issuer.secret=kyma-installer/helm-issuer-ca", "issuer.maxTTL=8h", "issuer.keyAlgorithm=rsa-2048",
            "sharedKey.enabled=false",
        ])
        let role = try #require(rendered.object("Role", named: RenderedChart.fullname))
        #expect(role["rules"].array.count == 1)
        #expect(role["rules"][0]["resourceNames"].strings == ["helm-secret", "helm-issuer-ca"])
        #expect(rendered.object("Role", named: "\(RenderedChart.fullname)-issuer") == nil)
        let arguments = try #require(rendered.only("Deployment"))["spec"]["template"]["spec"]["containers"][0]["args"].strings
        #expect(arguments.contains("--issuer-secret=kyma-installer/helm-issuer-ca"))
        #expect(arguments.contains("--issue-max-ttl=8h"))
        #expect(arguments.contains("--personal-key-algorithm=rsa-2048"))
        #expect(arguments.contains("--no-shared-key"))
    }

    @Test(arguments: kubeVersions)
    func anIssuerSecretElsewhereGetsARoleInItsNamespaceAndRequestersAnExampleRole(kubeVersion: String) throws {
        let rendered = try ChartValues.allOptions.render(kubeVersion: kubeVersion)
        let main = try #require(rendered.object("Role", named: RenderedChart.fullname))
        #expect(main["rules"][0]["resourceNames"].strings == ["helm-client-certs"])
        let issuer = try #require(rendered.object("Role", named: "\(RenderedChart.fullname)-issuer"))
        #expect(issuer["metadata"]["namespace"].string == "kyma-installer")
        #expect(issuer["rules"].array.count == 1)
        #expect(issuer["rules"][0]["resourceNames"].strings == ["helm-issuer-ca"])
        #expect(issuer["rules"][0]["verbs"].strings.sorted() == ["get", "list", "watch"])
        let binding = try #require(rendered.object("RoleBinding", named: "\(RenderedChart.fullname)-issuer"))
        #expect(binding["metadata"]["namespace"].string == "kyma-installer")
        #expect(binding["roleRef"]["name"].string == "\(RenderedChart.fullname)-issuer")
        #expect(binding["subjects"][0]["name"].string == "helm-cert-server-reader")
        let requester = try #require(rendered.object("Role", named: "\(RenderedChart.fullname)-certificate-requester"))
        #expect(requester["rules"][0]["resources"].strings == ["bundles/certificates"])
        #expect(requester["rules"][0]["verbs"].strings == ["create"])
    }

    @Test func aMalformedIssuerSecretIsRefusedBySchema() throws {
        #expect(throws: (any Error).self) {
            try RenderedChart(kubeVersion: "1.30.0", set: ["issuer.secret=no-namespace"])
        }
    }
}
