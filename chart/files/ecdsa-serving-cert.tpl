{{- /* Run through `tpl` only by Helm >= 3.5 (see _helpers.tpl "helm-cert-server.servingCertData"). */ -}}
{{- $name := include "helm-cert-server.fullname" . -}}
{{- $days := int .Values.tls.validityDays -}}
{{- $ca := genCAWithKey (printf "%s-ca" $name) $days (genPrivateKey "ecdsa") -}}
{{- $dns := list -}}
{{- range splitList "\n" (include "helm-cert-server.dnsNames" .) }}{{ if . }}{{ $dns = append $dns . }}{{ end }}{{ end -}}
{{- $cert := genSignedCertWithKey $name nil $dns $days $ca (genPrivateKey "ecdsa") -}}
ca.crt: {{ $ca.Cert | b64enc }}
tls.crt: {{ $cert.Cert | b64enc }}
tls.key: {{ $cert.Key | b64enc }}
