"""The ``podium`` command. Thin: each command parses, calls one function, renders.

The submit-model flags (``--hf-repo``, ``--vllm.max-model-len`` ...) are not click
options: they pass through to Podium's own parser (podium.spec.parse), which is generated
from the flag table, so that both ``--key value`` and ``--key=value`` work and errors
carry Podium's codes.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from podium.cli import info as info_cmds
from podium.cli import server_cmds
from podium.cli.check import run_check
from podium.cli.leaderboard import leaderboard
from podium.cli.login import login, logout
from podium.cli.submissions import submissions_app
from podium.cli.submit import submit_model
from podium.spec.docs import flags_epilog

app = typer.Typer(
    name="podium",
    help="Podium: check, serve, evaluate and rank LLM model submissions.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

PASSTHROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}

app.command("flags", help="List every submit-model flag (--json: the JSON schema; --markdown: the docs).")(
    info_cmds.flags
)
app.command("model-types", help="List the Neuron model types and the architectures they serve.")(
    info_cmds.model_types
)
app.command("targets", help="List the hardware targets.")(info_cmds.targets)


@app.command(
    "check",
    context_settings=PASSTHROUGH,
    epilog=flags_epilog(),
    help="Check a submission without running it: flags, model, preflight and launch plan. "
    "Takes the submit-model flags. Exit status 0: no error finding; 1: rejected.",
)
def check(
    ctx: typer.Context,
    model_dir: Annotated[
        Path | None, typer.Option("--model-dir", help="A model directory on your disk instead of the Hub.")
    ] = None,
    target: Annotated[str | None, typer.Option("--target", help="Hardware target (default: cpu, or the challenge's).")] = None,
    challenge: Annotated[Path | None, typer.Option("--challenge", help="A challenge YAML file: target, defaults, limits.")] = None,
    hf_token: Annotated[
        str | None, typer.Option("--hf-token", help="Token for gated/private repos (default: $HF_TOKEN). Never printed.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    token = hf_token or os.environ.get("HF_TOKEN") or None
    code = run_check(
        list(ctx.args),
        model_dir=model_dir,
        target=target,
        challenge=challenge,
        token=token,
        json_out=json_out,
    )
    raise typer.Exit(code)


@app.command(
    "run",
    context_settings=PASSTHROUGH,
    epilog=flags_epilog(),
    help="Run a submission on this machine: resolve, preflight, serve with vLLM, evaluate on "
    "the challenge, report. Takes the submit-model flags. Exit status 0: scored; 1: rejected "
    "by the preflight; 2: a stage failed.",
)
def run(
    ctx: typer.Context,
    challenge: Annotated[Path, typer.Option("--challenge", help="The challenge YAML file (or its folder).")],
    model_dir: Annotated[
        Path | None, typer.Option("--model-dir", help="A model directory on your disk instead of the Hub.")
    ] = None,
    target: Annotated[str | None, typer.Option("--target", help="Hardware target (default: the challenge's).")] = None,
    hf_token: Annotated[
        str | None, typer.Option("--hf-token", help="Token for gated/private repos (default: $HF_TOKEN). Never printed.")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", help="Where to write the report (default: runs/...).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    from podium.cli.run import run_command

    token = hf_token or os.environ.get("HF_TOKEN") or None
    raise typer.Exit(
        run_command(
            list(ctx.args),
            model_dir=model_dir,
            target=target,
            challenge=challenge,
            token=token,
            output=output,
            json_out=json_out,
        )
    )


@app.command("demo", help="The demo: prepare the demo models, run them on the demo challenge with real vLLM, print the scores.")
def demo(
    output: Annotated[Path | None, typer.Option("--output", help="Where to write the reports (default: runs/demo-...).")] = None,
    only_first: Annotated[bool, typer.Option("--only-smollm2", help="Skip the random-weight model.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    from podium.cli.demo import demo_command

    raise typer.Exit(demo_command(output, only_first, json_out))


server_cmds.register(app)

# The participant's commands against a server.
app.command("login", help="Log in to a Podium server: check the API token, keep it (mode 0600) in your config directory.")(login)
app.command("logout", help="Forget the stored server and token.")(logout)
app.command(
    "submit-model",
    context_settings=PASSTHROUGH,
    epilog=flags_epilog(),
    help="Submit a model to a challenge on the server. Takes the submit-model flags, checked "
    "here first. Prints the findings, or the submission id and queue position; --wait follows "
    "it to the end. Exit status 0: admitted (scored with --wait); 1: rejected; 2: failed.",
)(submit_model)
app.add_typer(submissions_app, name="submissions")
app.command("leaderboard", help="Show a challenge's leaderboard.")(leaderboard)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    debug = "--debug" in sys.argv
    if debug:
        sys.argv.remove("--debug")
    # SIGTERM stops like Ctrl-C: the engine's whole process tree is stopped on the way out.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except Exception as exc:  # the last resort: never a bare traceback for a user
        from podium.cli.render import err
        from podium.errors import PodiumError

        if debug:
            raise
        if isinstance(exc, PodiumError):
            from podium.cli.render import render_error

            render_error(exc)
            sys.exit(1)
        err.print(f"[bold red]internal error[/]: {type(exc).__name__}: {exc}")
        err.print("  hint: run again with --debug for the traceback, and report it")
        sys.exit(3)


if __name__ == "__main__":  # pragma: no cover
    main()
