print("helm-cert-server")
