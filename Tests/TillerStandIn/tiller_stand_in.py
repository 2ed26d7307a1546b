#!/usr/bin/env python3
"""Tiller, as far as helm-cert-server's live check goes: a real gRPC server (grpcio) with TLS client
authentication, serving hapi.services.tiller.ReleaseService/GetVersion.

Like Tiller with --tiller-tls-verify (Go's tls.RequireAndVerifyClientCert), it demands a client certificate
that chains to --ca and refuses the handshake otherwise. No generated code: the handler is registered with
grpc.method_handlers_generic_handler and the protobuf answer is encoded by hand (three string fields).

    GetVersionResponse { hapi.version.Version Version = 1; }
    Version { string sem_ver = 1; string git_commit = 2; string git_tree_state = 3; }

Knobs:
    --hang          accept TCP connections and never answer (no TLS, no gRPC): a Tiller that is stuck.
    --cert/--key    the server certificate to present (any: expired, from another CA, soon to expire).
    --version       the sem_ver to answer.
    --grpc-error    answer GetVersion with this gRPC status instead (a grpc.StatusCode name, e.g. UNAVAILABLE).

Prints "LISTENING <port>" on standard output once it accepts (--port 0 picks a free one); exits when its
standard input closes (the test that started it is gone) or when killed.
"""
import argparse
import os
import socket
import sys
import threading


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def string_field(number, text):
    data = text.encode()
    return varint(number << 3 | 2) + varint(len(data)) + data


def version_response(sem_ver, git_commit, git_tree_state):
    version = string_field(1, sem_ver) + string_field(2, git_commit) + string_field(3, git_tree_state)
    return varint(1 << 3 | 2) + varint(len(version)) + version


def hang(host, port):
    """Accepts and holds every connection; reads nothing, answers nothing."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(64)
    print(f"LISTENING {listener.getsockname()[1]}", flush=True)
    held = []
    while True:
        connection, _ = listener.accept()
        held.append(connection)
        if len(held) > 256:  # bounded: the oldest is closed
            held.pop(0).close()


def serve(args):
    import grpc
    from concurrent import futures

    answer = version_response(args.version, args.git_commit, "clean")

    def get_version(request, context):
        if args.grpc_error:
            context.abort(getattr(grpc.StatusCode, args.grpc_error), "stand-in told to fail")
        return answer

    handler = grpc.method_handlers_generic_handler(
        "hapi.services.tiller.ReleaseService",
        {
            "GetVersion": grpc.unary_unary_rpc_method_handler(
                get_version,
                request_deserializer=lambda data: data,
                response_serializer=lambda data: data,
            )
        },
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    with open(args.cert, "rb") as f:
        cert = f.read()
    with open(args.key, "rb") as f:
        key = f.read()
    with open(args.ca, "rb") as f:
        ca = f.read()
    credentials = grpc.ssl_server_credentials([(key, cert)], root_certificates=ca, require_client_auth=True)
    bound = server.add_secure_port(f"{args.host}:{args.port}", credentials)
    if bound == 0:
        sys.exit(f"cannot listen on {args.host}:{args.port}")
    server.start()
    print(f"LISTENING {bound}", flush=True)
    server.wait_for_termination()


def exit_with_stdin():
    """Exits the whole process once standard input reaches end of file."""
    def watch():
        while sys.stdin.buffer.read(4096):
            pass
        os._exit(0)
    threading.Thread(target=watch, daemon=True).start()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--ca")
    parser.add_argument("--version", default="v2.16.12")
    parser.add_argument("--git-commit", default="47f0b88409e71fd9ca272abc7cd762a56a1c613e")
    parser.add_argument("--hang", action="store_true")
    parser.add_argument("--grpc-error")
    parser.add_argument("--exit-with-stdin", action="store_true")
    args = parser.parse_args()
    if args.exit_with_stdin:
        exit_with_stdin()
    if args.hang:
        hang(args.host, args.port)
    else:
        if not (args.cert and args.key and args.ca):
            parser.error("--cert, --key and --ca are needed unless --hang")
        serve(args)


if __name__ == "__main__":
    main()
