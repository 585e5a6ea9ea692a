"""The participant's commands against a Podium server: ``login``, ``logout``,
``submit-model``, ``submissions`` (list / show / logs / cancel) and ``leaderboard``.

httpx is imported inside the commands so that ``podium check`` stays fast. Exit status,
as ``podium check``: 0 ok; 1 rejected, refused or not found (anything the server answers
with a 4xx, a submission that ends cancelled); 2 a failure (server unreachable or 5xx, a
submission that ends failed); 130 when Ctrl-C stops a ``--wait`` / ``--follow`` (the
submission itself goes on). Errors are rendered like ``podium check``: code, message, hint.
The API token is sent as a bearer header and never printed.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Annotated, Any
from urllib.parse import quote

import typer

from podium.cli import client_config
from podium.errors import Code

FINAL_STATES = frozenset({"scored", "failed", "cancelled", "rejected"})
STANDARD_PREFIXES = ("hf-", "neuron", "vllm")  # an unknown flag like these is a typo, not a challenge key
DEFAULT_INTERVAL = 2.0
TIMEOUT_S = 60.0

# Seams for the tests (a fake clock, a Ctrl-C during a wait).
_sleep: Callable[[float], None] = time.sleep
_clock: Callable[[], float] = time.monotonic

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
def _api(*, need_token: bool = True) -> Iterator[Api]:
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


def _emit_json(data: Any) -> None:
    from podium.cli.render import print_json

    print_json(data)


def _render_failure(exc: ClientError, json_out: bool) -> int:
    """Print a ClientError (findings as ``podium check`` does) and give the exit status."""
    from rich.text import Text

    from podium.cli import render
    from podium.errors import Finding, Severity

    if json_out:
        _emit_json(exc.body)
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


def _run(json_out: bool, body: Callable[[], int]) -> None:
    """Run a command body; every ClientError (and a local PodiumError) becomes a rendered
    error and an exit status."""
    from podium.errors import PodiumError

    try:
        code = body()
    except ClientError as exc:
        code = _render_failure(exc, json_out)
    except PodiumError as exc:
        code = _render_failure(
            ClientError(str(exc.code), exc.message, exc.hint, body={"ok": False, "error": exc.to_dict(), "findings": [exc.as_finding().to_dict()]}),
            json_out,
        )
    raise typer.Exit(code)


def _short(sha: str | None) -> str:
    return (sha or "")[:10]


def _repo_at(row: dict[str, Any]) -> str:
    repo = row.get("hf_repo") or "?"
    commit = _short(row.get("pinned_commit"))
    return f"{repo}@{commit}" if commit else repo


def _score(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def _when(text: Any) -> str:
    return str(text or "")[:19].replace("T", " ")


def _parse_time(text: str) -> float | None:
    import datetime as dt

    try:
        t = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.timestamp()


def _stage_durations(events: list[dict[str, Any]]) -> list[tuple[str, float | None]]:
    """How long each state lasted, from the timestamped transitions."""
    out: list[tuple[str, float | None]] = []
    for i, ev in enumerate(events):
        if i + 1 < len(events):
            a, b = _parse_time(ev["at"]), _parse_time(events[i + 1]["at"])
            out.append((ev["state"], (b - a) if a is not None and b is not None else None))
    return out


def _state_text(sub: dict[str, Any], *, progress: bool = False) -> str:
    state = sub.get("state", "?")
    pos = sub.get("queue_position")
    if state == "queued" and pos:
        return f"{state} (position {pos} in the queue)"
    done_total = sub.get("progress") or {}
    if progress and done_total.get("total"):
        return f"{state} {done_total.get('done') or 0}/{done_total['total']}"
    return str(state)


def _render_submission(sub: dict[str, Any]) -> None:
    from rich.table import Table

    from podium.cli import render

    t = Table(show_header=False, box=None, pad_edge=False)
    t.add_column(style="dim", no_wrap=True)
    t.add_column(overflow="fold")
    t.add_row("submission", str(sub["id"]))
    t.add_row("challenge", str(sub.get("challenge", "")))
    t.add_row("owner", str(sub.get("owner", "")))
    t.add_row("state", _state_text(sub))
    t.add_row("repository", f"{sub.get('hf_repo') or '?'} @ {sub.get('requested_revision') or '?'} -> {sub.get('pinned_commit') or '?'}")
    if sub.get("model_type"):
        t.add_row("model type", str(sub["model_type"]))
    given = (sub.get("spec") or {}).get("given") or []
    if given:
        t.add_row("flags given", ", ".join(given))
    t.add_row("score", _score(sub.get("score")))
    t.add_row("attempts", str(sub.get("attempts", 0)))
    t.add_row("created", _when(sub.get("created_at")))
    render.out.print(t)
    events = sub.get("events") or []
    if events:
        times = dict(_stage_durations(events))
        ev = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        ev.add_column("state")
        ev.add_column("at")
        ev.add_column("took", justify="right")
        ev.add_column("detail", overflow="fold")
        for i, e in enumerate(events):
            took = times.get(e["state"]) if i + 1 < len(events) else None
            ev.add_row(e["state"], _when(e["at"]), "" if took is None else f"{took:.1f}s", e.get("detail") or "")
        render.out.rule("[bold]stages")
        render.out.print(ev)
    _render_outcome(sub)


def _render_outcome(sub: dict[str, Any]) -> None:
    from rich.text import Text

    from podium.cli import render

    state = sub.get("state")
    if state == "scored":
        render.out.print(f"[bold green]SCORED[/]: {_score(sub.get('score'))} (public split)")
    elif state == "failed" and sub.get("error"):
        e = sub["error"]
        render.out.print(Text.assemble(("FAILED", "bold red"), f" [{e.get('code')}]: ", e.get("message") or ""))
        if e.get("hint"):
            render.out.print(Text.assemble(("  hint: ", "dim"), e["hint"]))
    elif state in ("failed", "cancelled", "rejected"):
        render.out.print(f"[bold red]{str(state).upper()}[/]")
        if state == "rejected" and sub.get("findings"):
            for f in sub["findings"]:
                render.out.print(f"  {f.get('severity')} {f.get('code')}: {f.get('message')}")


def _final_exit(state: str | None) -> int:
    return {"scored": 0, "failed": 2}.get(str(state), 1)


# -- login / logout -------------------------------------------------------------------


def login(
    server: Annotated[str | None, typer.Option("--server", help="The Podium server's URL (default: $PODIUM_SERVER).")] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", help="Your API token (default: $PODIUM_TOKEN, else asked without echo). Never printed."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Check an API token against the server and keep both in your config directory."""

    def body() -> int:
        from podium.cli import render

        url = server or os.environ.get(client_config.SERVER_ENV)
        if not url:
            raise ClientError("NOT_AUTHENTICATED", "no server given", "pass --server URL (the address the organisers gave you)")
        secret = token or os.environ.get(client_config.TOKEN_ENV)
        if not secret:
            secret = typer.prompt("API token", hide_input=True, err=True)
        url = client_config.normalise_server(url)
        api = Api(url, secret)
        try:
            me = api.get("/api/me")
        finally:
            api.close()
        path = client_config.save(url, secret)
        if json_out:
            _emit_json({"ok": True, "server": url, "user": me.get("name"), "role": me.get("role"), "config": str(path)})
        else:
            render.out.print(f"logged in to {url} as [bold]{me.get('name')}[/] ({me.get('role')}); kept in {path} (mode 0600)")
        return 0

    _run(json_out, body)


def logout(json_out: JsonOpt = False) -> None:
    """Forget the stored server and token."""

    def body() -> int:
        from podium.cli import render

        path = client_config.config_path()
        removed = client_config.remove()
        if json_out:
            _emit_json({"ok": True, "removed": removed, "config": str(path)})
        else:
            render.out.print(f"logged out (removed {path})" if removed else "not logged in (no stored login)")
            if os.environ.get(client_config.TOKEN_ENV):
                render.out.print("note: PODIUM_TOKEN is still set in this environment")
        return 0

    _run(json_out, body)


# -- submit-model ---------------------------------------------------------------------


def _wire_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def build_payload(argv: list[str], extras: Callable[[], list[Any]] | None = None) -> dict[str, str]:
    """The flat key/value JSON of a submission (wire keys, string values), parsed with the
    same parser as ``podium check``: a typo fails here, before any request. A flag that
    is not a standard one may be a challenge key; ``extras`` fetches those (one GET)."""
    from podium.errors import FlagUnknown
    from podium.spec.flags import FLAGS_BY_NAME
    from podium.spec.parse import canonical, parse_submit_args

    extra_flags: list[Any] = []
    try:
        spec = parse_submit_args(argv)
    except FlagUnknown as exc:
        written = canonical(str(exc.details.get("flag") or ""))
        if extras is None or written.startswith(STANDARD_PREFIXES):
            raise
        extra_flags = extras()
        if not extra_flags:
            raise
        spec = parse_submit_args(argv, extras=extra_flags)
    known = {**FLAGS_BY_NAME, **{f.name: f for f in extra_flags}}
    payload: dict[str, str] = {}
    for name in spec.given:
        value = spec.value(name)
        if value is not None:
            payload[known[name].wire_key] = _wire_value(value)
    return payload


def _challenge_extras(api: Api, challenge: str) -> Callable[[], list[Any]]:
    def fetch() -> list[Any]:
        from podium.spec.flags import Kind, extra_flag
        from podium.spec.parse import canonical

        for row in api.get("/api/challenges"):
            if row.get("name") == challenge:
                return [extra_flag(canonical(k), Kind.STR, "challenge key") for k in row.get("extra_keys") or []]
        raise ClientError("CHALLENGE_NOT_FOUND", f"no challenge {challenge}", "check the challenge name (the organisers announce it)")

    return fetch


def submit_model(
    ctx: typer.Context,
    challenge: Annotated[str, typer.Option("--challenge", help="The challenge's name on the server.")],
    hf_token: Annotated[
        str | None,
        typer.Option("--hf-token", help="Token for a gated/private repo, sent to the server (stored encrypted, deleted at the end). Never printed."),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Follow the submission to its end (Ctrl-C stops waiting only).")] = False,
    interval: IntervalOpt = DEFAULT_INTERVAL,
    json_out: JsonOpt = False,
) -> None:
    argv = list(ctx.args)

    def body() -> int:
        from podium.cli import render
        from podium.cli.render import findings_table
        from podium.errors import Finding, Severity

        login_ = client_config.load()
        if not login_.server or not login_.token:
            # the flags are checked even when not logged in: a typo is reported first

            def not_logged_in() -> list[Any]:
                raise ClientError("NOT_AUTHENTICATED", "you are not logged in", NOT_LOGGED_IN_HINT)

            build_payload(argv, extras=not_logged_in)
        with _api() as api:
            payload = build_payload(argv, extras=_challenge_extras(api, challenge))
            request = dict(payload)
            if hf_token:
                request["hf_token"] = hf_token
            created = api.post(f"/api/challenges/{quote(challenge, safe='')}/submissions", json=request)
            if not wait:
                if json_out:
                    _emit_json(created)
                else:
                    render.out.print(
                        f"submitted: [bold]#{created['id']}[/] {_state_text(created)}  "
                        f"{created.get('hf_repo')} @ {created.get('requested_revision')} -> {_short(created.get('pinned_commit'))}"
                    )
                    warn = [f for f in created.get("findings") or [] if f.get("severity") != "info"]
                    if warn:
                        render.out.print(findings_table([Finding(Severity(f["severity"]), f["code"], f["message"], f.get("hint", "")) for f in warn]))
                    render.out.print(f"follow it: podium submissions show {created['id']}  (or submit with --wait)")
                return 0
            if not json_out:
                render.out.print(f"submitted: [bold]#{created['id']}[/] {_state_text(created)}; waiting (Ctrl-C stops waiting only)")
            return follow(api, int(created["id"]), interval=interval, json_out=json_out)

    _run(json_out, body)


def follow(api: Api, sid: int, *, interval: float, json_out: bool) -> int:
    """Poll a submission until it ends, printing each state as it is reached."""
    from podium.cli import render

    start = _clock()
    seen: tuple[str, Any] | None = None
    live = render.out.status("", spinner="dots") if (render.out.is_terminal and not json_out) else nullcontext()
    try:
        with live as status:
            while True:
                sub = api.get(f"/api/submissions/{sid}")
                elapsed = _clock() - start
                now = (sub.get("state"), sub.get("queue_position"))
                if now != seen and not json_out:
                    render.out.print(f"  {elapsed:7.1f}s  {_state_text(sub)}")
                seen = now
                if sub.get("state") in FINAL_STATES:
                    break
                if status is not None:
                    status.update(f"#{sid} {_state_text(sub, progress=True)}  {elapsed:.0f}s")
                _sleep(interval)
    except KeyboardInterrupt:
        render.err.print(
            f"stopped waiting; submission {sid} goes on on the server. Resume with: podium submissions show {sid}"
        )
        return 130
    if json_out:
        _emit_json(sub)
    else:
        _render_outcome(sub)
    return _final_exit(sub.get("state"))


# -- submissions ----------------------------------------------------------------------

submissions_app = typer.Typer(
    help="Your submissions: list (no subcommand), show ID, logs ID [--follow], cancel ID.",
    invoke_without_command=True,
    add_completion=False,
    rich_markup_mode=None,
)


@submissions_app.callback()
def submissions_list(
    ctx: typer.Context,
    challenge: Annotated[str | None, typer.Option("--challenge", help="Only this challenge's.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """List your submissions, newest first."""
    if ctx.invoked_subcommand is not None:
        return

    def body() -> int:
        from rich import box
        from rich.table import Table

        from podium.cli import render

        with _api() as api:
            rows = api.get("/api/submissions", params={"challenge": challenge} if challenge else None)
        if json_out:
            _emit_json(rows)
            return 0
        if not rows:
            render.out.print("no submissions yet")
            return 0
        t = Table(show_header=True, header_style="bold", expand=False, box=box.SIMPLE_HEAD, pad_edge=False)
        t.add_column("id", justify="right", no_wrap=True)
        t.add_column("challenge", no_wrap=True)
        t.add_column("state", no_wrap=True)
        t.add_column("repository", overflow="fold", min_width=24)
        t.add_column("score", justify="right", no_wrap=True)
        t.add_column("created (UTC)", no_wrap=True)
        for r in rows:
            pos = r.get("queue_position")
            state = f"{r.get('state')} #{pos}" if r.get("state") == "queued" and pos else str(r.get("state"))
            t.add_row(str(r["id"]), r.get("challenge", ""), state, _repo_at(r), _score(r.get("score")), _when(r.get("created_at"))[5:16])
        render.out.print(t)
        return 0

    _run(json_out, body)


@submissions_app.command("show")
def submissions_show(submission_id: Annotated[int, typer.Argument(help="The submission's id.")], json_out: JsonOpt = False) -> None:
    """One submission: state, stages with their timestamps, score or error."""

    def body() -> int:
        with _api() as api:
            sub = api.get(f"/api/submissions/{submission_id}")
        if json_out:
            _emit_json(sub)
        else:
            _render_submission(sub)
        return 0

    _run(json_out, body)


@submissions_app.command("logs")
def submissions_logs(
    submission_id: Annotated[int, typer.Argument(help="The submission's id.")],
    follow_: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing until the submission ends.")] = False,
    interval: IntervalOpt = DEFAULT_INTERVAL,
    json_out: JsonOpt = False,
) -> None:
    """A submission's stage logs (resolve, compile, serve, evaluate)."""

    def body() -> int:
        import sys

        offset, chunks, done = 0, [], False
        with _api() as api:
            try:
                while True:
                    page = api.get(f"/api/submissions/{submission_id}/logs", params={"offset": offset})
                    text = page.get("text") or ""
                    done = bool(page.get("done"))
                    offset = int(page.get("next_offset", offset + len(text)))
                    if text:
                        if json_out:
                            chunks.append(text)
                        else:
                            sys.stdout.write(text)
                            sys.stdout.flush()
                    if done or (not follow_ and not text):
                        break
                    if not text:
                        _sleep(interval)
            except KeyboardInterrupt:
                from podium.cli import render

                render.err.print(f"stopped following; resume with: podium submissions logs {submission_id} --follow")
                return 130
        if json_out:
            _emit_json({"text": "".join(chunks), "next_offset": offset, "done": done})
        return 0

    _run(json_out, body)


@submissions_app.command("cancel")
def submissions_cancel(submission_id: Annotated[int, typer.Argument(help="The submission's id.")], json_out: JsonOpt = False) -> None:
    """Cancel a submission: a queued one at once, a running one within seconds."""

    def body() -> int:
        from podium.cli import render

        with _api() as api:
            answer = api.post(f"/api/submissions/{submission_id}/cancel")
        if json_out:
            _emit_json(answer)
        else:
            state = answer.get("state", "cancelled") if isinstance(answer, dict) else "cancelled"
            render.out.print(f"submission {submission_id}: {state}")
        return 0

    _run(json_out, body)


# -- leaderboard ----------------------------------------------------------------------


def leaderboard(
    challenge: Annotated[str, typer.Argument(help="The challenge's name.")],
    split: Annotated[str, typer.Option("--split", help="public, or private (organisers; everyone after the reveal).")] = "public",
    json_out: JsonOpt = False,
) -> None:
    """A challenge's leaderboard: the best scored submission of each participant."""

    def body() -> int:
        from rich import box
        from rich.table import Table

        from podium.cli import render

        if split not in ("public", "private"):
            raise ClientError("PAYLOAD_INVALID", f"--split must be public or private, not {split!r}", "pass --split public or --split private")
        with _api(need_token=False) as api:
            board = api.get(f"/api/challenges/{quote(challenge, safe='')}/leaderboard", params={"split": split})
        if json_out:
            _emit_json(board)
            return 0
        rows = board.get("rows") or []
        metric = rows[0]["metric"] if rows else "score"
        render.out.rule(f"[bold]{challenge}[/] ({split} split)")
        if not rows:
            render.out.print("no scored submissions yet")
            return 0
        t = Table(show_header=True, header_style="bold", expand=False, box=box.SIMPLE_HEAD, pad_edge=False)
        for col in ("#", "participant", "repository", "model type", metric, "tok/s", "flags", "submitted"):
            t.add_column(col, overflow="fold", justify="right" if col in ("#", metric, "tok/s") else "left")
        for r in rows:
            flags = " ".join(f"{k}={v}" for k, v in (r.get("flags") or {}).items())
            tps = r.get("tokens_per_s")
            t.add_row(
                str(r["rank"]), r["participant"], _repo_at(r), r.get("model_type") or "", _score(r.get("score")),
                "-" if tps is None else f"{tps:.1f}", flags, _when(r.get("submitted_at")),
            )
        render.out.print(t)
        return 0

    _run(json_out, body)


# -- registration ---------------------------------------------------------------------


def register(app: typer.Typer) -> None:
    from podium.spec.docs import flags_epilog

    passthrough = {"allow_extra_args": True, "ignore_unknown_options": True}
    app.command("login", help="Log in to a Podium server: check the API token, keep it (mode 0600) in your config directory.")(login)
    app.command("logout", help="Forget the stored server and token.")(logout)
    app.command(
        "submit-model",
        context_settings=passthrough,
        epilog=flags_epilog(),
        help="Submit a model to a challenge on the server. Takes the submit-model flags, checked "
        "here first. Prints the findings, or the submission id and queue position; --wait follows "
        "it to the end. Exit status 0: admitted (scored with --wait); 1: rejected; 2: failed.",
    )(submit_model)
    app.add_typer(submissions_app, name="submissions")
    app.command("leaderboard", help="Show a challenge's leaderboard.")(leaderboard)
