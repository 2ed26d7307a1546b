#!/usr/bin/env bash
# The benchmark's certificates, bundle and token, made with the openssl CLI:
#
#   bench/make_pki.sh DIR
#
# DIR/pki/server.pem, server-key.pem   the serving certificate: ECDSA P-256, self-signed, for 127.0.0.1 and
#                                      localhost (clients trust it as is)
# DIR/bundle/global.helm.{ca.crt,tls.crt,tls.key}
#                                      the Helm bundle as Kyma makes it: an RSA-2048 Tiller CA and an RSA-2048
#                                      client certificate it signed, with its key (the service's --source-dir)
# DIR/www/{ca,cert,key}.pem, bundle.tar.gz
#                                      the same files for nginx (bench/run replaces the tarball with the one the
#                                      service hands out, so both serve the same bytes)
# DIR/tokens.csv                       one line "TOKEN,bench,1000"; the token is also printed on stdout
set -euo pipefail
work=${1:?usage: bench/make_pki.sh DIR}
pki=$work/pki
mkdir -p "$pki" "$work/bundle" "$work/www"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$pki/server-key.pem" -out "$pki/server.pem" \
    2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=tiller-ca \
    -keyout "$pki/tiller-ca-key.pem" -out "$pki/tiller-ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=helm -keyout "$pki/helm-key.pem" -out "$pki/helm.csr" 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' \
    >"$pki/client.ext"
openssl x509 -req -in "$pki/helm.csr" -CA "$pki/tiller-ca.pem" -CAkey "$pki/tiller-ca-key.pem" \
    -CAcreateserial -days 365 -extfile "$pki/client.ext" -out "$pki/helm.pem" 2>/dev/null
cp "$pki/tiller-ca.pem" "$work/bundle/global.helm.ca.crt"
cp "$pki/helm.pem" "$work/bundle/global.helm.tls.crt"
cp "$pki/helm-key.pem" "$work/bundle/global.helm.tls.key"
cp "$pki/tiller-ca.pem" "$work/www/ca.pem"
cp "$pki/helm.pem" "$work/www/cert.pem"
cp "$pki/helm-key.pem" "$work/www/key.pem"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work/www" -cf - ca.pem cert.pem key.pem \
    | gzip -9n >"$work/www/bundle.tar.gz"
token=$(openssl rand -hex 24)
printf '%s,bench,1000\n' "$token" >"$work/tokens.csv"
chmod 600 "$work/tokens.csv"
echo "$token"
