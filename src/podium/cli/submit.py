"""``podium submit-model``: the submit-model flags, parsed and checked here as ``podium
check`` does, sent to a challenge on the server; with ``--wait``, the submission followed
to its end."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import nullcontext
from typing import Annotated, Any
from urllib.parse import quote

import typer

from podium.cli import client_config
from podium.cli.server_client import (
    DEFAULT_INTERVAL,
    NOT_LOGGED_IN_HINT,
    Api,
    ClientError,
    IntervalOpt,
    JsonOpt,
    emit_json,
    open_api,
    run_body,
)
from podium.cli.submission_view import page_url, render_outcome, short_sha, state_text

FINAL_STATES = frozenset({"scored", "failed", "cancelled", "rejected"})
STANDARD_PREFIXES = ("hf-", "neuron", "vllm")  # an unknown flag like these is a typo, not a challenge key

# Seams for the tests (a fake clock, a Ctrl-C during a wait).
_sleep: Callable[[float], None] = time.sleep
_clock: Callable[[], float] = time.monotonic


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
        with open_api() as api:
            payload = build_payload(argv, extras=_challenge_extras(api, challenge))
            request = dict(payload)
            if hf_token:
                request["hf_token"] = hf_token
            created = api.post(f"/api/challenges/{quote(challenge, safe='')}/submissions", json=request)
            if not wait:
                if json_out:
                    emit_json(created)
                else:
                    render.out.print(
                        f"submitted: [bold]#{created['id']}[/] {state_text(created)}  "
                        f"{created.get('hf_repo')} @ {created.get('requested_revision')} -> {short_sha(created.get('pinned_commit'))}"
                    )
                    warn = [f for f in created.get("findings") or [] if f.get("severity") != "info"]
                    if warn:
                        render.out.print(findings_table([Finding(Severity(f["severity"]), f["code"], f["message"], f.get("hint", "")) for f in warn]))
                    render.out.print(f"follow it: podium submissions show {created['id']}  (or submit with --wait),\n"
                                     f"       or in a browser: {page_url(api.server, created['id'])}")
                return 0
            if not json_out:
                render.out.print(f"submitted: [bold]#{created['id']}[/] {state_text(created)}; waiting (Ctrl-C stops waiting only)\n"
                                 f"  in a browser: {page_url(api.server, created['id'])}")
            return follow(api, int(created["id"]), interval=interval, json_out=json_out)

    run_body(json_out, body)


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
                    render.out.print(f"  {elapsed:7.1f}s  {state_text(sub)}")
                seen = now
                if sub.get("state") in FINAL_STATES:
                    break
                if status is not None:
                    status.update(f"#{sid} {state_text(sub, progress=True)}  {elapsed:.0f}s")
                _sleep(interval)
    except KeyboardInterrupt:
        render.err.print(
            f"stopped waiting; submission {sid} goes on on the server. Resume with: podium submissions show {sid}"
        )
        return 130
    if json_out:
        emit_json(sub)
    else:
        render_outcome(sub)
    return _final_exit(sub.get("state"))


def _final_exit(state: str | None) -> int:
    return {"scored": 0, "failed": 2}.get(str(state), 1)
