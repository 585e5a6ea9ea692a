"""What the participant's commands against a Podium server share: the HTTP client
(:class:`Api`), the translation of the server's answers into :class:`ClientError`, the
login lookup (kept in :mod:`podium.cli.client_config`), the common options, and
:func:`run_body`, which renders an error and gives the exit status.

httpx is imported inside the commands so that ``podium check`` stays fast. Exit status,
as ``podium check``: 0 ok; 1 rejected, refused or not found (anything the server answers
with a 4xx, a submission that ends cancelled); 2 a failure (server unreachable or 5xx, a
submission that ends failed); 130 when Ctrl-C stops a ``--wait`` / ``--follow`` (the
submission itself goes on). Errors are rendered like ``podium check``: code, message, hint.
The API token is sent as a bearer header and never printed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from podium.cli import client_config
from podium.errors import Code

DEFAULT_INTERVAL = 2.0
TIMEOUT_S = 60.0

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
IntervalOpt = Annotated[float, typer.Option("--interval", help="Seconds between status polls.", min=0.05)]


class ClientError(Exception):
    """An error of the participant CLI: the server's ``{code, message, hint}`` (plus its
    ``findings``), or one of ours (``NOT_AUTHENTICATED`` when not logged in,
    ``SERVER_UNREACHABLE``, ``SERVER_ERROR``)."""

    def __init__(self, code: str, message: str, hint: str = "", *, exit_code: int = 1, body: dict | None = None) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code
        self.body = body or {"ok": False, "error": {"code": self.code, "message": message, "hint": hint}}

    @property
    def findings(self) -> list[dict[str, str]]:
        return list(self.body.get("findings") or [])


def _from_response(method: str, path: str, response: Any) -> ClientError:
    status = response.status_code
    exit_code = 2 if status >= 500 else 1
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("code"):
        return ClientError(
            error["code"], error.get("message") or "", error.get("hint") or "", exit_code=exit_code, body=body
        )
    if status == 404:  # FastAPI's own answer: no such route on this server
        return ClientError(
            "NOT_FOUND",
            f"the server has no {method} {path.split('?')[0]} (HTTP 404)",
            "the server may be older than this podium; ask the organisers to upgrade it",
            exit_code=1,
        )
    return ClientError(
        Code.SERVER_ERROR if status >= 500 else Code.PAYLOAD_INVALID,
        f"{method} {path.split('?')[0]} answered HTTP {status}",
        "try again later; if it persists, tell the organisers" if status >= 500 else "upgrade podium",
        exit_code=exit_code,
    )


class Api:
    """A small client of the Podium API over httpx."""

    def __init__(self, server: str, token: str | None, timeout: float = TIMEOUT_S) -> None:
        import httpx

        self.server = server
        headers = {"Accept": "application/json", "User-Agent": "podium-cli"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._httpx = httpx
        self._client = httpx.Client(base_url=server, headers=headers, timeout=timeout, follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, path: str, **kw: Any) -> Any:
        httpx = self._httpx
        try:
            response = self._client.request(method, path, **kw)
        except httpx.TimeoutException:
            raise ClientError(
                Code.SERVER_UNREACHABLE,
                f"{self.server} did not answer in time",
                "try again; check the server address (podium login --server URL, or PODIUM_SERVER)",
                exit_code=2,
            ) from None
        except httpx.HTTPError as exc:
            raise ClientError(
                Code.SERVER_UNREACHABLE,
                f"cannot reach {self.server}: {exc}",
                "check the server address (podium login --server URL, or PODIUM_SERVER) and that it is up",
                exit_code=2,
            ) from None
        if response.status_code >= 400:
            raise _from_response(method, path, response)
        try:
            return response.json()
        except ValueError:
            raise ClientError(
                Code.SERVER_ERROR,
                f"{method} {path.split('?')[0]} did not answer JSON (HTTP {response.status_code})",
                "check that the address is a Podium server",
                exit_code=2,
            ) from None

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.request("POST", path, **kw)


NOT_LOGGED_IN_HINT = "run 'podium login --server URL --token TOKEN' (or set PODIUM_SERVER and PODIUM_TOKEN)"


@contextmanager
def open_api(*, need_token: bool = True) -> Iterator[Api]:
    login = client_config.load()
    if not login.server:
        raise ClientError("NOT_AUTHENTICATED", "no Podium server: you are not logged in", NOT_LOGGED_IN_HINT)
    if need_token and not login.token:
        raise ClientError("NOT_AUTHENTICATED", f"no API token for {login.server}", NOT_LOGGED_IN_HINT)
    api = Api(login.server, login.token)
    try:
        yield api
    finally:
        api.close()


# -- rendering ------------------------------------------------------------------------


def emit_json(data: Any) -> None:
    from podium.cli.render import print_json

    print_json(data)


def render_failure(exc: ClientError, json_out: bool) -> int:
    """Print a ClientError (findings as ``podium check`` does) and give the exit status."""
    from rich.text import Text

    from podium.cli import render
    from podium.errors import Finding, Severity

    if json_out:
        emit_json(exc.body)
        return exc.exit_code
    if exc.findings:
        found = [
            Finding(Severity(f.get("severity", "error")), f.get("code", ""), f.get("message", ""), f.get("hint", ""))
            for f in exc.findings
        ]
        render.out.rule("[bold]findings")
        render.out.print(render.findings_table(found))
        errors = sum(1 for f in found if f.severity is Severity.ERROR)
        warnings = sum(1 for f in found if f.severity is Severity.WARNING)
        render.out.print(f"[bold red]REJECTED[/]: {errors} error finding(s), {warnings} warning(s)")
        return exc.exit_code
    render.err.print(Text.assemble(("error", "bold red"), f"[{exc.code}]: ", exc.message))
    if exc.hint:
        render.err.print(Text.assemble(("  hint: ", "dim"), exc.hint))
    return exc.exit_code


def run_body(json_out: bool, body: Callable[[], int]) -> None:
    """Run a command body; every ClientError (and a local PodiumError) becomes a rendered
    error and an exit status."""
    from podium.errors import PodiumError

    try:
        code = body()
    except ClientError as exc:
        code = render_failure(exc, json_out)
    except PodiumError as exc:
        code = render_failure(
            ClientError(str(exc.code), exc.message, exc.hint, body={"ok": False, "error": exc.to_dict(), "findings": [exc.as_finding().to_dict()]}),
            json_out,
        )
    raise typer.Exit(code)
