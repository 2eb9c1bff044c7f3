"""Client certificates (mutual TLS) and ALPN per purpose, against real TLS servers.

A mock server that demands a client certificate signed by the test CA refuses a
client without one; with `cert=` the client gets in over HTTP/2, HTTP/1.1 and a
WebSocket, and so does a client whose certificate is only in its own
`ssl.SSLContext`, whatever ALPN that context offers. A caller's context is never
changed: the HTTP side still gets h2 from a context that offers no ALPN, and a
WebSocket works through a context that offers h2. nginx (TLS, HTTP/2, WebSocket
proxying, and a server block that demands a client certificate) stands in front
of the mock server as a real reverse proxy: it honours ALPN, so a WebSocket
offered h2 there would get HTTP/2 and no Upgrade. Every test runs with the
blocking client and the async one on asyncio and trio.
"""

from __future__ import annotations

import shutil
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from cryptography.hazmat.primitives import serialization

from oxide_io import APIConnectionError, APIStatusError, ClientCertificateError
from oxide_io._tls import offered_alpn, parse_client_hello_alpn
from oxide_io.testing import MockServer
from oxide_proto import WebSocketHandshakeError
from tests.io.blocking import unwrap, wrap
from tests.io.conftest import KEY, MakeClient
from tests.servers import _process, free_port

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def client_files(tls_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A client certificate from the test CA: as cert + key files, as one combined
    file, and with the key encrypted under a password."""
    directory = tmp_path_factory.mktemp("client-cert")
    leaf = tls_ca.issue_cert("client@example.org")
    files = {
        "cert": directory / "client.pem",
        "key": directory / "client.key",
        "combined": directory / "combined.pem",
        "encrypted_key": directory / "client-encrypted.key",
        "other_key": directory / "other.key",
    }
    files["cert"].write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(files["key"]))
    leaf.private_key_and_cert_chain_pem.write_to_path(str(files["combined"]))
    key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), password=None)
    files["encrypted_key"].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"open sesame"),
        )
    )
    tls_ca.issue_cert("someone-else").private_key_pem.write_to_path(str(files["other_key"]))
    return {name: str(path) for name, path in files.items()}


@pytest.fixture(scope="module")
def _mtls_server(tls_ca: trustme.CA) -> Iterator[MockServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    context.verify_mode = ssl.CERT_REQUIRED  # no certificate from the test CA, no entry
    tls_ca.configure_trust(context)
    with MockServer(api_key=KEY, tls=context) as server:
        yield server


@pytest.fixture
def mtls_server(_mtls_server: MockServer) -> MockServer:
    _mtls_server.clear()
    return _mtls_server


_NGINX_CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    ssl_certificate {dir}/server.pem;
    ssl_certificate_key {dir}/server.key;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
    proxy_buffering off;
    server {{
        listen 127.0.0.1:{port} ssl http2;
        location / {{ proxy_pass http://127.0.0.1:{upstream}; }}
    }}
    server {{
        listen 127.0.0.1:{mtls_port} ssl http2;
        ssl_verify_client on;
        ssl_client_certificate {dir}/ca.pem;
        location / {{ proxy_pass http://127.0.0.1:{upstream}; }}
    }}
}}
"""


@pytest.fixture(scope="module")
def nginx(
    tls_ca: trustme.CA, plain_server: MockServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """nginx in front of the plain mock server: base URLs for its TLS + HTTP/2 server
    block and for the one that demands a client certificate."""
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if binary is None:
        pytest.skip("nginx is not installed")
    directory = tmp_path_factory.mktemp("nginx")
    leaf = tls_ca.issue_cert("127.0.0.1", "localhost")
    (directory / "server.pem").write_bytes(b"".join(b.bytes() for b in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(directory / "server.key"))
    tls_ca.cert_pem.write_to_path(str(directory / "ca.pem"))
    port, mtls_port = free_port(), free_port()
    conf = directory / "nginx.conf"
    conf.write_text(
        _NGINX_CONF.format(
            dir=directory, port=port, mtls_port=mtls_port, upstream=plain_server.port
        )
    )
    args = [binary, "-p", str(directory), "-e", str(directory / "error.log"), "-c", str(conf)]
    args += ["-g", "daemon off;"]

    def ready() -> bool:
        import socket

        try:
            for each in (port, mtls_port):
                socket.create_connection(("127.0.0.1", each), timeout=2).close()
        except OSError:
            return False
        return True

    with _process(args, ready, "nginx"):
        yield {
            "h2": f"https://127.0.0.1:{port}/v1",
            "mtls": f"https://127.0.0.1:{mtls_port}/v1",
        }


def _client_versions(client: Any) -> list[str]:
    """The HTTP versions of the client's pooled connections."""
    return [c.proto.http_version for c in unwrap(client)._transport.connections]


async def _chat(client: Any) -> str:
    completion = await client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
    )
    return str(completion.choices[0].message.content)


async def _ws_reply(client: Any, runtime: str) -> str:
    session = (
        wrap(unwrap(client).responses.session())
        if runtime == "sync"
        else client.responses.session()
    )
    async with session as opened:
        response = await opened.send(model="gpt-4o-mini", input="hi")
    return str(response.output_text)


# -- mutual TLS ---------------------------------------------------------------------


@pytest.mark.parametrize("http2", [True, False])
async def test_client_certificate_over_http(
    make_client: MakeClient,
    mtls_server: MockServer,
    ca_path: str,
    client_files: dict[str, str],
    http2: bool,
) -> None:
    options = {"base_url": mtls_server.base_url, "verify": ca_path, "http2": http2}
    with pytest.raises(APIConnectionError):
        await _chat(make_client(**options, max_retries=0))  # refused without one
    client = make_client(**options, cert=(client_files["cert"], client_files["key"]))
    for _ in range(2):
        assert "hi" in await _chat(client)
    expected = "2" if http2 else "1.1"
    assert [r.http_version for r in mtls_server.requests] == [expected, expected]


@pytest.mark.parametrize("form", ["combined", "password"])
async def test_client_certificate_forms(
    make_client: MakeClient,
    mtls_server: MockServer,
    ca_path: str,
    client_files: dict[str, str],
    form: str,
) -> None:
    cert: Any = (
        client_files["combined"]
        if form == "combined"
        else (client_files["cert"], client_files["encrypted_key"], "open sesame")
    )
    client = make_client(base_url=mtls_server.base_url, verify=ca_path, cert=cert)
    assert "hi" in await _chat(client)


async def test_client_certificate_over_a_websocket(
    make_client: MakeClient,
    runtime: str,
    mtls_server: MockServer,
    ca_path: str,
    client_files: dict[str, str],
) -> None:
    options = {"base_url": mtls_server.base_url, "verify": ca_path}
    # TLS 1.3 ends the client's handshake before the server checks: the refusal
    # arrives as the socket closing where the Upgrade's answer was expected.
    with pytest.raises((APIConnectionError, WebSocketHandshakeError)):
        await _ws_reply(make_client(**options, max_retries=0), runtime)
    client = make_client(**options, cert=(client_files["cert"], client_files["key"]))
    assert await _ws_reply(client, runtime)
    assert [r.http_version for r in mtls_server.requests] == ["websocket"]


@pytest.mark.parametrize("alpn", [None, ["h2", "http/1.1"]], ids=["no-alpn", "h2"])
@pytest.mark.parametrize("http2", [True, False])
async def test_client_certificate_in_the_callers_context(
    make_client: MakeClient,
    runtime: str,
    mtls_server: MockServer,
    ca_path: str,
    client_files: dict[str, str],
    alpn: list[str] | None,
    http2: bool,
) -> None:
    # The certificate is only in the caller's context, whatever ALPN it offers: the
    # server lets the client in over HTTP (h2 when offered and wanted) and a WebSocket.
    context = ssl.create_default_context(cafile=ca_path)
    context.load_cert_chain(client_files["cert"], client_files["key"])
    if alpn is not None:
        context.set_alpn_protocols(alpn)
    before = offered_alpn(context)
    client = make_client(base_url=mtls_server.base_url, verify=context, http2=http2)
    assert "hi" in await _chat(client)
    assert await _ws_reply(client, runtime)
    assert "hi" in await _chat(client)
    version = "2" if http2 else "1.1"
    assert [r.http_version for r in mtls_server.requests] == [version, "websocket", version]
    assert offered_alpn(context) == before  # untouched


async def test_cert_with_the_callers_context(
    make_client: MakeClient,
    runtime: str,
    mtls_server: MockServer,
    ca_path: str,
    client_files: dict[str, str],
) -> None:
    # `cert=` with a context that holds none: the contexts oxide makes carry it.
    context = ssl.create_default_context(cafile=ca_path)
    context.set_alpn_protocols(["h2", "http/1.1"])
    pair = (client_files["cert"], client_files["key"])
    client = make_client(base_url=mtls_server.base_url, verify=context, cert=pair)
    assert await _ws_reply(client, runtime)
    assert "hi" in await _chat(client)
    assert [r.http_version for r in mtls_server.requests] == ["websocket", "2"]
    assert offered_alpn(context) == ("h2", "http/1.1")


async def test_the_callers_context_still_verifies_the_server(
    make_client: MakeClient, mtls_server: MockServer, client_files: dict[str, str]
) -> None:
    # Connections made for a purpose verify with the caller's trust store, which
    # here does not hold the test CA: refused as unverified, with or without h2.
    context = ssl.create_default_context()
    context.load_cert_chain(client_files["cert"], client_files["key"])
    for http2 in (True, False):
        client = make_client(
            base_url=mtls_server.base_url, verify=context, http2=http2, max_retries=0
        )
        with pytest.raises(APIConnectionError) as info:
            await _chat(client)
        assert "CERTIFICATE_VERIFY_FAILED" in repr(info.value.__cause__)
    assert mtls_server.requests == []


async def test_the_callers_capath_directory_is_trusted(
    make_client: MakeClient,
    mtls_server: MockServer,
    ca_path: str,
    client_files: dict[str, str],
    tmp_path: Path,
) -> None:
    # A `capath` directory is read as certificates are verified, so a copy of the
    # context would not hold its CA; the caller's own trust store verifies.
    import subprocess

    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl program is not installed (it names a capath entry)")
    digest = subprocess.run(
        [openssl, "x509", "-hash", "-noout", "-in", ca_path],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.strip()
    (tmp_path / f"{digest}.0").write_bytes(Path(ca_path).read_bytes())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(capath=str(tmp_path))
    context.load_cert_chain(client_files["cert"], client_files["key"])
    client = make_client(base_url=mtls_server.base_url, verify=context)
    assert "hi" in await _chat(client)
    assert [r.http_version for r in mtls_server.requests] == ["2"]


def test_a_lent_context_keeps_the_purpose_alpn_on_the_callers_context(ca_path: str) -> None:
    from oxide_io._tls import ssl_context
    from oxide_io._tls_lent import LentContext

    context = ssl.create_default_context(cafile=ca_path)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    for purpose, offers in [("http", ("h2", "http/1.1")), ("http1", None)]:
        lent = ssl_context(context, purpose)  # type: ignore[arg-type]
        if offers is None:
            assert lent is context  # no h2 offered: as it is
            continue
        assert isinstance(lent, LentContext) and lent.lender is context
        # An object it makes belongs to the caller's context (whose certificate,
        # key and trust store it uses) and still offers the purpose's ALPN.
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = lent.wrap_bio(incoming, outgoing, server_hostname="example.org")
        assert tls.context is context
        with pytest.raises(ssl.SSLWantReadError):
            tls.do_handshake()
        assert parse_client_hello_alpn(outgoing.read()) == offers
        assert offered_alpn(context) == ()  # the caller's offers what it did
        assert lent.minimum_version == ssl.TLSVersion.TLSv1_3
        assert lent.verify_flags == context.verify_flags
        assert (lent.verify_mode, lent.check_hostname) == (ssl.CERT_REQUIRED, True)
        assert ssl_context(context, purpose) is lent  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("problem", "match"),
    [
        ("missing", "no such file"),
        ("not_pem", "cannot load the client certificate"),
        ("wrong_key", "cannot load the client certificate"),
        ("wrong_password", "is the password right"),
    ],
)
def test_unusable_client_certificate_is_a_typed_error(
    client_files: dict[str, str], tmp_path: Path, problem: str, match: str
) -> None:
    from oxide_io import Client

    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    cert: Any = {
        "missing": (str(tmp_path / "absent.pem"), client_files["key"]),
        "not_pem": str(garbage),
        "wrong_key": (client_files["cert"], client_files["other_key"]),
        "wrong_password": (client_files["cert"], client_files["encrypted_key"], "guess"),
    }[problem]
    # Raised where the client is built, not at the first request.
    with pytest.raises(ClientCertificateError, match=match) as info:
        Client(api_key="k", cert=cert)
    assert isinstance(info.value, ValueError) and "guess" not in str(info.value)
    assert info.value.path == (cert if isinstance(cert, str) else cert[0])


# -- ALPN per purpose -----------------------------------------------------------------


async def test_websocket_through_a_context_that_offers_h2(
    make_client: MakeClient, runtime: str, tls_server: MockServer, ca_path: str
) -> None:
    context = ssl.create_default_context(cafile=ca_path)
    context.set_alpn_protocols(["h2", "http/1.1"])
    tls_server.clear()
    client = make_client(base_url=tls_server.base_url, verify=context)
    assert await _ws_reply(client, runtime)
    assert "hi" in await _chat(client)
    assert [r.http_version for r in tls_server.requests] == ["websocket", "2"]
    assert offered_alpn(context) == ("h2", "http/1.1")  # untouched


@pytest.mark.parametrize("http2", [True, False])
async def test_a_plain_context_still_gets_h2_for_http(
    make_client: MakeClient, runtime: str, tls_server: MockServer, ca_path: str, http2: bool
) -> None:
    context = ssl.create_default_context(cafile=ca_path)
    tls_server.clear()
    client = make_client(base_url=tls_server.base_url, verify=context, http2=http2)
    assert "hi" in await _chat(client)
    assert await _ws_reply(client, runtime)
    expected = "2" if http2 else "1.1"
    assert [r.http_version for r in tls_server.requests] == [expected, "websocket"]
    assert offered_alpn(context) == ()  # untouched


def test_a_derived_context_keeps_the_callers_verification(
    ca_path: str, client_files: dict[str, str]
) -> None:
    from oxide_io._tls import check_cert, ssl_context

    cert = check_cert((client_files["cert"], client_files["key"]))
    context = ssl.create_default_context(cafile=ca_path)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    derived = ssl_context(context, "http", cert)
    assert derived is not context and offered_alpn(derived) == ("h2", "http/1.1")
    assert derived.minimum_version == ssl.TLSVersion.TLSv1_3
    assert derived.verify_flags == context.verify_flags
    assert (derived.verify_mode, derived.check_hostname) == (ssl.CERT_REQUIRED, True)
    assert derived.get_ca_certs() == context.get_ca_certs()
    assert ssl_context(context, "http", cert) is derived  # once per context and purpose
    lax = ssl.create_default_context()
    lax.check_hostname = False
    lax.verify_mode = ssl.CERT_NONE
    copy = ssl_context(lax, "http", cert)
    assert (copy.verify_mode, copy.check_hostname) == (ssl.CERT_NONE, False)


def test_a_truststore_context_is_derived_for_a_purpose(ca_path: str) -> None:
    # truststore's context only looks like an OpenSSL one (a TLS object cannot be
    # moved to it): a context of its class is derived, offering the purpose's ALPN.
    truststore = pytest.importorskip("truststore")
    from oxide_io._tls import ssl_context
    from oxide_io._tls_lent import LentContext

    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    derived = ssl_context(context, "http")
    assert not isinstance(derived, LentContext) and type(derived) is type(context)
    assert offered_alpn(derived) == ("h2", "http/1.1")
    assert offered_alpn(context) == ()


def test_client_hello_alpn_parser() -> None:
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    context = ssl.create_default_context()
    context.set_alpn_protocols(["h2", "http/1.1"])
    tls = context.wrap_bio(incoming, outgoing, server_hostname="example.org")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    hello = outgoing.read()
    assert parse_client_hello_alpn(hello) == ("h2", "http/1.1")
    # Cut anywhere, the hello is incomplete: None, never an exception.
    for end in range(len(hello)):
        assert parse_client_hello_alpn(hello[:end]) is None
    assert parse_client_hello_alpn(b"\x17\x03\x03\x00\x01x") is None  # not a handshake
    assert parse_client_hello_alpn(b"GET / HTTP/1.1\r\n\r\n") is None


# -- behind nginx ---------------------------------------------------------------------


async def test_behind_nginx_a_context_offering_h2(
    make_client: MakeClient,
    runtime: str,
    nginx: dict[str, str],
    plain_server: MockServer,
    ca_path: str,
) -> None:
    context = ssl.create_default_context(cafile=ca_path)
    context.set_alpn_protocols(["h2", "http/1.1"])
    plain_server.clear()
    client = make_client(base_url=nginx["h2"], verify=context)
    assert "hi" in await _chat(client)
    assert _client_versions(client) == ["HTTP/2"]  # to nginx, which honours ALPN
    assert await _ws_reply(client, runtime)  # http/1.1 only: the Upgrade goes through
    assert [r.http_version for r in plain_server.requests] == ["1.1", "websocket"]
    assert offered_alpn(context) == ("h2", "http/1.1")


async def test_behind_nginx_with_a_client_certificate(
    make_client: MakeClient,
    runtime: str,
    nginx: dict[str, str],
    plain_server: MockServer,
    ca_path: str,
    client_files: dict[str, str],
) -> None:
    plain_server.clear()
    options = {"base_url": nginx["mtls"], "verify": ca_path, "max_retries": 0}
    with pytest.raises(APIStatusError) as info:
        await _chat(make_client(**options))  # nginx answers 400: no certificate sent
    assert info.value.status_code == 400
    client = make_client(**options, cert=(client_files["cert"], client_files["key"]))
    assert "hi" in await _chat(client)
    assert await _ws_reply(client, runtime)
    assert [r.http_version for r in plain_server.requests] == ["1.1", "websocket"]


async def test_a_pickled_client_keeps_its_certificate(
    make_client: MakeClient,
    runtime: str,
    mtls_server: MockServer,
    ca_path: str,
    client_files: dict[str, str],
) -> None:
    import pickle

    pair = (client_files["cert"], client_files["key"])
    client = make_client(base_url=mtls_server.base_url, verify=ca_path, cert=pair)
    copy = pickle.loads(pickle.dumps(unwrap(client)))  # an empty pool, the same settings
    copy = wrap(copy) if runtime == "sync" else copy
    try:
        assert "hi" in await _chat(copy)
    finally:
        await copy.aclose()
