# helm-cert-server: build with the official Swift image, run on slim Debian as a numeric non-root user.
# Both stages are Debian 12 (bookworm), so the shared libraries the binary was linked against (OpenSSL 3,
# zlib) and libcurl 4, which it loads with dlopen when it first talks to the Kubernetes API, have the same
# sonames at run time. scripts/check-runtime-libraries proves, without a Docker engine, that the runtime stage
# installs every library `ldd` lists for this build, and libcurl with everything it links. The release link
# (Package.swift: lld, packed DT_RELR relocations) needs glibc 2.36, which bookworm has.

FROM swift:6.3-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl-dev libcurl4-openssl-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so that a source change does not refetch them.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
# Stripped: the symbol table is half the file and nothing in the container reads it.
RUN swift build -c release --static-swift-stdlib --product helm-cert-server \
 && install -D -s -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/helm-cert-server" \
      /out/usr/local/bin/helm-cert-server

FROM debian:bookworm-slim AS runtime
# Only what the binary loads (see scripts/check-runtime-libraries) and the CA roots for the API server's TLS.
# apt-get clean: no downloaded packages left behind on a base without Debian's docker-clean setting.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 libcurl4 zlib1g ca-certificates \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/usr/local/bin/helm-cert-server /usr/local/bin/helm-cert-server
# distroless's "nonroot" ids: numeric, so that Kubernetes' runAsNonRoot can check them.
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/helm-cert-server"]
