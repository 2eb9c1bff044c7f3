"""The `oxide` commands, on click: chat, responses, api, mock-server, completion.

Options that shape the client (`--base-url`, `--h2c`, `--timeout`, ...) belong to
the top-level command; the key only ever comes from OPENAI_API_KEY, so it is
neither in the shell's history nor in the process list, and it is scrubbed from
any error message before that is printed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import json
import os
import pathlib
import signal
import ssl
import sys
import tempfile
import threading
from collections.abc import Iterator
from types import FrameType
from typing import IO, TYPE_CHECKING, Any, NoReturn

import click

from .. import Client, OpenAIError
from .._files import file_upload
from ._bench import bench
from ._bulk import bulk
from ._progress import progress
from ._table import BadValue, Method, Param, _FileArgument, find_method, methods

if TYPE_CHECKING:
    from oxide_proto.types.params import ChatCompletionMessageParam

    from .._sync._stream_helper_chat import SyncChatCompletionStreamManager

    _ParamType = click.ParamType[Any]  # generic from click 8.2 on
else:
    _ParamType = click.ParamType

__all__ = ["cli"]

DEFAULT_MODEL = "gpt-4o-mini"


@dataclasses.dataclass
class Settings:
    """The top-level options, handed to every command through click's context."""

    base_url: str | None = None
    h2c: bool = False
    timeout: float | None = None
    max_retries: int | None = None
    cafile: str | None = None
    progress: bool | None = None
    debug: bool = False

    def client(self) -> Client:
        options: dict[str, Any] = {"base_url": self.base_url, "h2c": self.h2c}
        if self.timeout is not None:
            options["timeout"] = self.timeout
        if self.max_retries is not None:
            options["max_retries"] = self.max_retries
        if self.cafile is not None:
            options["verify"] = self.cafile  # a CA file: the client still offers h2 by ALPN
        return Client(**options)

    def show_progress(self) -> bool:
        return sys.stderr.isatty() if self.progress is None else self.progress


pass_settings = click.make_pass_decorator(Settings)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--base-url",
    metavar="URL",
    help="API base URL (default: OPENAI_BASE_URL, else https://api.openai.com/v1).",
)
@click.option("--h2c", is_flag=True, help="HTTP/2 without TLS (prior knowledge), for http:// URLs.")
@click.option("--timeout", type=float, metavar="SECONDS", help="Timeout of each request.")
@click.option("--max-retries", type=click.IntRange(min=0), help="Retries of a failed request.")
@click.option(
    "--cafile",
    type=click.Path(exists=True, dir_okay=False),
    help="Trust the CA certificates in this PEM file (for `oxide mock-server --tls`).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bars for uploads and downloads (default: when stderr is a terminal).",
)
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
@click.version_option(package_name="oxide-client", prog_name="oxide")
@click.pass_context
def cli(
    ctx: click.Context,
    base_url: str | None,
    h2c: bool,
    timeout: float | None,
    max_retries: int | None,
    cafile: str | None,
    progress: bool | None,
    debug: bool,
) -> None:
    """oxide: the OpenAI API from a terminal.

    The key is read from OPENAI_API_KEY (and the organization and project from
    OPENAI_ORG_ID and OPENAI_PROJECT_ID). `oxide mock-server` runs a local
    server to try every command without a key.
    """
    ctx.obj = Settings(base_url, h2c, timeout, max_retries, cafile, progress, debug)


cli.add_command(bulk)
cli.add_command(bench)

# -- chat and responses -------------------------------------------------------


def _prompt_text(prompt: str | None) -> str:
    if prompt is not None:
        return prompt
    if sys.stdin.isatty():
        raise click.UsageError("give a prompt, or pipe one on standard input")
    text = sys.stdin.read()
    if not text.strip():
        raise click.UsageError("the prompt on standard input is empty")
    return text


def _print_json(value: Any) -> None:
    click.echo(json.dumps(_plain(value), indent=2, ensure_ascii=False))


def _plain(value: Any) -> Any:
    """`value` as JSON-ready data: models and pages through their `to_dict()`."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


_model_option = click.option(
    "-m",
    "--model",
    default=lambda: os.environ.get("OXIDE_MODEL", DEFAULT_MODEL),
    show_default=f"OXIDE_MODEL, else {DEFAULT_MODEL}",
    help="The model.",
)
_system_option = click.option("--system", metavar="TEXT", help="System (developer) instructions.")
_json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print the final object as JSON instead of streaming."
)


@cli.command()
@click.argument("prompt", required=False)
@_model_option
@_system_option
@_json_option
@pass_settings
def chat(
    settings: Settings, prompt: str | None, model: str, system: str | None, as_json: bool
) -> None:
    """Ask a chat model (chat.completions); the reply streams as it is written.

    Without PROMPT, the prompt is read from standard input.
    """
    from oxide_proto import ContentDeltaEvent  # the chat models load only for chat

    messages: list[ChatCompletionMessageParam] = []
    if system is not None:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": _prompt_text(prompt)})
    with settings.client() as client:
        manager: SyncChatCompletionStreamManager[object]
        manager = client.chat.completions.stream(model=model, messages=messages)
        with manager as stream:
            for event in stream:
                if not as_json and isinstance(event, ContentDeltaEvent):
                    click.echo(event.delta, nl=False)
            final = stream.get_final_completion()
    if as_json:
        _print_json(final)
    else:
        click.echo()


@cli.command()
@click.argument("prompt", required=False)
@_model_option
@_system_option
@_json_option
@pass_settings
def responses(
    settings: Settings, prompt: str | None, model: str, system: str | None, as_json: bool
) -> None:
    """Ask a model through the Responses API; the text streams as it is written.

    Without PROMPT, the prompt is read from standard input.
    """
    # The Responses models (a large module) load only for this command.
    from oxide_proto.types.responses import ResponseTextDeltaEvent

    options: dict[str, Any] = {} if system is None else {"instructions": system}
    text = _prompt_text(prompt)
    with (
        settings.client() as client,
        client.responses.stream(model=model, input=text, **options) as stream,
    ):
        for event in stream:
            if not as_json and isinstance(event, ResponseTextDeltaEvent):
                click.echo(event.delta, nl=False)
        final = stream.get_final_response()
    if as_json:
        _print_json(final)
    else:
        click.echo()


# -- api ------------------------------------------------------------------------


class _ValueType(_ParamType):
    """Converts an option's text by the API parameter's type, failing with a clear line."""

    def __init__(self, param: Param) -> None:
        self.param = param
        self.name = param.kind

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return self.param.convert(value)
        except BadValue as exc:
            self.fail(str(exc), param, ctx)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[click.shell_completion.CompletionItem]:
        choices = self.param.choices or (("true", "false") if self.param.kind == "bool" else ())
        if choices:
            return [
                click.shell_completion.CompletionItem(c)
                for c in choices
                if c.startswith(incomplete)
            ]
        if self.param.is_file:
            return [click.shell_completion.CompletionItem(incomplete, type="file")]
        return []


def _option(param: Param) -> click.Option:
    names = [f"--{param.name.replace('_', '-')}"]
    if "_" in param.name:
        names.append(f"--{param.name}")  # the API's own spelling works too
    hint = {
        "file": "@PATH",
        "json": "JSON",
        "int": "INTEGER",
        "float": "NUMBER",
        "bool": "BOOLEAN",
    }
    metavar = "|".join(param.choices) if param.choices else hint.get(param.kind, "TEXT")
    annotation = param.annotation.replace(" | NotGiven", "")
    if param.choices:
        help_text = ""
    elif param.kind == "json":
        help_text = f"{annotation} (JSON, or @FILE holding JSON)"
    else:
        help_text = annotation
    return click.Option(
        [*names, param.name],
        type=_ValueType(param),
        required=param.required,
        multiple=param.is_file_list,
        metavar=metavar,
        help=help_text,
    )


def _method_command(method: Method) -> click.Command:
    params: list[click.Parameter] = [_option(p) for p in method.params]
    if method.operation.binary:
        params.append(
            click.Option(
                ["-o", "--output"],
                type=click.Path(dir_okay=False, allow_dash=True),
                help="Write the content to this file ('-' for standard output).",
            )
        )

    @click.pass_obj
    def call(settings: Settings, /, **values: Any) -> None:
        output = values.pop("output", None)
        _call(settings, method, values, output)

    op = method.operation
    return click.Command(
        method.name,
        callback=call,
        params=params,
        help=f"{method.summary}\n\n{op.method} {op.path}",
        short_help=method.summary[:80],
        no_args_is_help=False,
    )


class _ApiGroup(click.Group):
    """`oxide api <method>`: one subcommand per API method, built when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(methods())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        method = find_method(cmd_name)
        return None if method is None else _method_command(method)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0]
        command = self.get_command(ctx, name)
        if command is None:  # only now is every method's module loaded, for suggestions
            close = difflib.get_close_matches(name, list(methods()), n=3, cutoff=0.6)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise click.UsageError(
                f"unknown method {name!r}{hint}; `oxide api --help` lists them all"
            )
        return name, command, args[1:]


@cli.group(cls=_ApiGroup)
def api() -> None:
    """Call any API method by its dotted name: oxide api models.list

    The names are the official SDK's (`chat.completions.create`).
    Each parameter is an option named after it: `--model gpt-4o-mini`. Objects
    and arrays are JSON (`--messages '[{"role": "user", "content": "Hi"}]'`) or
    `@file.json`; a file to upload is `--file @path`. The answer is printed as
    JSON; a streamed one (`--stream true`) as one JSON object per line; binary
    content goes to `-o FILE`.
    """


@contextlib.contextmanager
def _opened_files(settings: Settings, values: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """`values` with each @PATH file argument turned into an upload (with a progress bar)."""
    with contextlib.ExitStack() as stack:
        opened: dict[str, Any] = {}
        for name, value in values.items():
            if isinstance(value, tuple):
                opened[name] = [_upload(stack, settings, v) for v in value]
            else:
                opened[name] = _upload(stack, settings, value)
        yield opened


def _upload(stack: contextlib.ExitStack, settings: Settings, value: Any) -> Any:
    if not isinstance(value, _FileArgument):
        return value
    path = value.path
    if not os.path.isfile(path):
        raise click.UsageError(f"no such file: {path}")
    report = stack.enter_context(
        progress(f"upload {os.path.basename(path)}", enabled=settings.show_progress())
    )
    return file_upload(pathlib.Path(path), on_progress=report)


def _call(settings: Settings, method: Method, values: dict[str, Any], output: str | None) -> None:
    given = {k: v for k, v in values.items() if v is not None and v != ()}
    with settings.client() as client, _opened_files(settings, given) as arguments:
        if method.operation.binary:
            _download(settings, method.bound(client, streaming=True), arguments, output)
            return
        result = method.bound(client)(**arguments)
        if hasattr(result, "__enter__") and hasattr(result, "__iter__"):
            with result:  # a stream: one JSON object per event, as they come
                for event in result:
                    click.echo(json.dumps(_plain(event), ensure_ascii=False))
            return
        _print_json(result)


def _download(
    settings: Settings, method: Any, arguments: dict[str, Any], output: str | None
) -> None:
    if output is None:
        if sys.stdout.isatty():
            raise click.UsageError("the answer is binary: give -o FILE (or -o - to print it)")
        output = "-"
    with method(**arguments) as response:
        length = response.headers.get("content-length")
        total = int(length) if length and length.isdigit() else None
        name = "standard output" if output == "-" else os.path.basename(output)
        with (
            progress(f"download {name}", enabled=settings.show_progress()) as report,
            _sink(output) as sink,
        ):
            done = 0
            report(0, total)
            for chunk in response.iter_bytes():
                sink.write(chunk)
                done += len(chunk)
                report(done, total)


@contextlib.contextmanager
def _sink(output: str) -> Iterator[IO[bytes]]:
    if output == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    # Written beside the target and renamed: a failed download leaves no half file.
    directory = os.path.dirname(os.path.abspath(output))
    handle = tempfile.NamedTemporaryFile(dir=directory, prefix=".oxide-", delete=False)  # noqa: SIM115 (renamed below)
    try:
        with handle:
            yield handle
        os.replace(handle.name, output)
    except BaseException:
        os.unlink(handle.name)
        raise


# -- mock-server -------------------------------------------------------------


def _self_signed(directory: str) -> tuple[ssl.SSLContext, str]:
    """A server context with a certificate for 127.0.0.1, and the path of its CA."""
    try:
        import trustme
    except ImportError:
        raise click.UsageError(
            "--tls makes a throwaway certificate with trustme: pip install trustme "
            "(or give --certfile and --keyfile)"
        ) from None
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    cafile = os.path.join(directory, "oxide-mock-ca.pem")
    authority.cert_pem.write_to_path(cafile)
    return context, cafile


@cli.command("mock-server")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on; 0 picks one.")
@click.option("--h2c", is_flag=True, help="Serve HTTP/2 without TLS (prior knowledge) as well.")
@click.option("--tls", is_flag=True, help="Serve HTTPS (and h2 by ALPN), self-signed.")
@click.option("--certfile", type=click.Path(exists=True, dir_okay=False), help="PEM chain.")
@click.option("--keyfile", type=click.Path(exists=True, dir_okay=False), help="PEM key.")
@click.option("--api-key", metavar="KEY", help="Require this key (default: any key is accepted).")
def mock_server(
    host: str,
    port: int,
    h2c: bool,
    tls: bool,
    certfile: str | None,
    keyfile: str | None,
    api_key: str | None,
) -> None:
    """Run the embedded mock API server (oxide_io.testing.MockServer) until Ctrl-C.

    It answers chat completions (streamed too), Responses, models, embeddings and
    files like the API does, for local development without a key or network.
    """
    from ..testing import MockServer

    with tempfile.TemporaryDirectory(prefix="oxide-mock-") as directory:
        context, cafile = None, None
        if certfile:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(certfile, keyfile)
        elif keyfile:
            raise click.UsageError("--keyfile needs --certfile")
        elif tls:
            context, cafile = _self_signed(directory)
        stop = threading.Event()

        def _on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        http2 = h2c or context is not None
        server = MockServer(api_key=api_key, http2=http2, tls=context, host=host, port=port)
        with server:
            key = api_key or "sk-mock"
            protocols = "HTTP/1.1" + (" and HTTP/2" if http2 else "")
            click.echo(f"oxide mock server at {server.base_url} ({protocols})")
            click.echo(f"  export OPENAI_BASE_URL={server.base_url}")
            note = "" if api_key else "  # any key is accepted"
            click.echo(f"  export OPENAI_API_KEY={key}{note}")
            if cafile:
                click.echo(f"  CA certificate: {cafile} (oxide --cafile {cafile} ...)")
            if h2c and context is None:
                click.echo("  HTTP/2: oxide --h2c ..., or Client(h2c=True)")
            click.echo("Ctrl-C stops it.", err=True)
            sys.stdout.flush()
            while not stop.wait(0.5):
                pass
        click.echo("stopped", err=True)


# -- completion -------------------------------------------------------------------


@cli.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script: eval "$(oxide completion bash)"."""
    from click.shell_completion import get_completion_class

    completer = get_completion_class(shell)
    assert completer is not None  # every listed shell has one
    click.echo(completer(cli, {}, "oxide", "_OXIDE_COMPLETE").source())


# -- errors ------------------------------------------------------------------------


def _scrub(text: str) -> str:
    key = os.environ.get("OPENAI_API_KEY")
    if key and len(key) >= 4:
        text = text.replace(key, "sk-***")
    return " ".join(text.split())


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"oxide: error: {_scrub(message)}", err=True)
    sys.exit(code)


def run(argv: list[str] | None = None) -> int:
    """Runs the command line; errors end as one line on stderr and a non-zero status."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("OXIDE_DEBUG") == "1"
    try:
        result = cli.main(args, prog_name="oxide", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.Abort:
        click.echo("", err=True)
        return 130
    except click.ClickException as exc:
        if debug:
            raise
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f" (see {exc.ctx.command_path} --help)"
        _fail(exc.format_message() + hint, exc.exit_code)
    except BrokenPipeError:
        # The reader went away (`oxide ... | head`): not an error of ours.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if debug:
            raise
        kind = type(exc).__name__
        if isinstance(exc, OpenAIError):
            _fail(f"{kind}: {exc}", 1)
        _fail(f"{kind}: {exc} (--debug shows the traceback)", 1)
