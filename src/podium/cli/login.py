"""``podium login`` and ``podium logout``: check an API token against a server and keep
both in the config directory (:mod:`podium.cli.client_config`), or forget them."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from podium.cli import client_config
from podium.cli.server_client import Api, ClientError, JsonOpt, emit_json, run_body


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
            emit_json({"ok": True, "server": url, "user": me.get("name"), "role": me.get("role"), "config": str(path)})
        else:
            render.out.print(f"logged in to {url} as [bold]{me.get('name')}[/] ({me.get('role')}); kept in {path} (mode 0600)")
        return 0

    run_body(json_out, body)


def logout(json_out: JsonOpt = False) -> None:
    """Forget the stored server and token."""

    def body() -> int:
        from podium.cli import render

        path = client_config.config_path()
        removed = client_config.remove()
        if json_out:
            emit_json({"ok": True, "removed": removed, "config": str(path)})
        else:
            render.out.print(f"logged out (removed {path})" if removed else "not logged in (no stored login)")
            if os.environ.get(client_config.TOKEN_ENV):
                render.out.print("note: PODIUM_TOKEN is still set in this environment")
        return 0

    run_body(json_out, body)
