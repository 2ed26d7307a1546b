"""Schemathesis hooks for Tests/DeployTests/OpenAPILiveServerTests.swift (loaded with SCHEMATHESIS_HOOKS).

Schemathesis knows no serializer for application/pkcs10 (POST /v1/bundles/{bundle}/certificates takes a PEM
certificate signing request), so it would skip that operation as "Serialization not possible". A generated body is
sent as its text, or its bytes: the server must answer whatever it is as openapi.yaml says (400 for a bad request).
"""
import schemathesis


@schemathesis.serializer("application/pkcs10")
def pkcs10(ctx, value):
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return str(value).encode("utf-8")
