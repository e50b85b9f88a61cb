"""`partnerscope serve` and `partnerscope users`: the web app and who may use it."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from partnerscope.cli.app import UsageError, actor, app, console, err_console, program, state
from partnerscope.cli.output import FormatOption, OutputFormat, show

users_app = typer.Typer(
    no_args_is_help=True,
    help="Users of the web app and the API: add, remove, list, passwords, email addresses and "
    "API tokens.",
)
app.add_typer(users_app, name="users")


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Server processes (each reads the served run once).")
    ] = 1,
    secure_cookies: Annotated[
        bool | None,
        typer.Option(
            "--secure-cookies/--no-secure-cookies",
            help="Mark cookies Secure (default: when the request came over HTTPS; behind a "
            "TLS proxy pass --proxy-headers or --secure-cookies).",
        ),
    ] = None,
    proxy_headers: Annotated[
        bool, typer.Option(help="Trust X-Forwarded-For/-Proto from a proxy on this host.")
    ] = False,
) -> None:
    """Serve the dashboard, partner pages, partner portal and REST API (/api/v1, OpenAPI at
    /api/v1/openapi.json) of the workspace's latest run. Keeps serving while `partnerscope
    run` makes a new run, and switches to it when it is complete."""
    import uvicorn

    from partnerscope.accounts import Accounts
    from partnerscope.web.app import UVICORN

    ws = state(ctx).workspace()
    if not Accounts.open(ws).everyone():
        err_console.print(
            "[yellow]No user yet:[/] add one with `partnerscope users add NAME --role admin`."
        )
    os.environ["PARTNERSCOPE_WORKSPACE"] = str(ws.root)
    if secure_cookies is not None:
        os.environ["PARTNERSCOPE_SECURE_COOKIES"] = "1" if secure_cookies else "0"
    console.print(f"Serving {escape(str(ws.root))} on http://{host}:{port}/ (Ctrl-C stops)")
    uvicorn.run(
        "partnerscope.web.app:from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=proxy_headers,
        log_level="warning",
        **UVICORN,
    )


def _password(password_stdin: bool, generate: bool, usage: str) -> tuple[str, bool]:
    """(the password, whether to print it)."""
    import secrets

    if generate:
        return secrets.token_urlsafe(15), True
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    if not sys.stdin.isatty():
        # getpass would fall back to echoing the password, with a GetPassWarning
        raise UsageError(
            "no terminal to type the password on: pipe it in with --password-stdin "
            f"(printf '%s\\n' \"$PASSWORD\" | {program()} {usage} --password-stdin), or let "
            "partnerscope make one up with --generate"
        )
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True), False


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]
Generate = Annotated[
    bool, typer.Option("--generate", help="Make up a strong password and print it once.")
]


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name (what they sign in with).")],
    role: Annotated[
        str,
        typer.Option(
            "--role", "-r", help="admin, analyst, partner_manager, partner_user or finance."
        ),
    ],
    partner: Annotated[
        str | None, typer.Option("--partner", help="A partner user's own partner id.")
    ] = None,
    assign: Annotated[
        list[str] | None,
        typer.Option("--assign", help="A partner id a partner manager looks after (repeat)."),
    ] = None,
    manages: Annotated[
        str | None,
        typer.Option(
            "--manages",
            help="A partner manager sees every partner whose partner_manager is this name.",
        ),
    ] = None,
    email: Annotated[
        str | None,
        typer.Option("--email", help="Where the user's notifications by email go."),
    ] = None,
    password_stdin: PasswordStdin = False,
    generate: Generate = False,
) -> None:
    """Add a user who can sign in to the web app."""
    from partnerscope.accounts import AccountError, Accounts, Role

    accounts = Accounts.open(state(ctx).workspace())
    try:
        chosen = Role(role.strip().lower().replace("-", "_").replace(" ", "_"))
    except ValueError:
        raise AccountError(
            f"{role!r} is not a role; choose one of {', '.join(r.value for r in Role)}"
        ) from None
    password, show_once = _password(password_stdin, generate, f"users add {name} --role {role}")
    user = accounts.add(
        name,
        chosen,
        password,
        partner_id=partner,
        manages=manages,
        partners=assign or (),
        email=email,
        by=actor(),
    )
    console.print(f"Added {escape(user.name)} ({user.role.value}).")
    if show_once:
        console.print(f"Password (shown once): {escape(password)}")


@users_app.command("remove")
def users_remove(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="User name.")]
) -> None:
    """Remove a user: its sessions and API tokens stop working at once."""
    from partnerscope.accounts import Accounts

    Accounts.open(state(ctx).workspace()).remove(name, by=actor())
    console.print(f"Removed {escape(name)}.")


@users_app.command("password")
def users_password(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    password_stdin: PasswordStdin = False,
    generate: Generate = False,
) -> None:
    """Set a user's password (signs out its sessions and revokes its API tokens)."""
    from partnerscope.accounts import Accounts

    password, show_once = _password(password_stdin, generate, f"users password {name}")
    revoked = Accounts.open(state(ctx).workspace()).set_password(name, password, by=actor())
    said = f"Password of {escape(name)} changed; its sessions were signed out"
    if revoked:
        ids = ", ".join(map(str, revoked))
        tokens = (
            f"its API token {ids} was"
            if len(revoked) == 1
            else f"its {len(revoked)} API tokens ({ids}) were"
        )
        said += (
            f" and {tokens} revoked: issue new ones with `partnerscope users token {escape(name)}`"
        )
    console.print(said + ".")
    if show_once:
        console.print(f"Password (shown once): {escape(password)}")


@users_app.command("set-email")
def users_set_email(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    address: Annotated[
        str | None, typer.Argument(help="The email address (omit with --none).")
    ] = None,
    none: Annotated[
        bool, typer.Option("--none", help="No email: the user is told in the web app only.")
    ] = False,
) -> None:
    """Set where a user's notifications by email go, or --none for in-app only."""
    from partnerscope.accounts import Accounts

    if (address is None) == (not none):
        raise UsageError(
            f"give the address or --none: `{program()} users set-email {name} "
            "name@example.com`, or `--none` to send this user no email"
        )
    user = Accounts.open(state(ctx).workspace()).set_email(name, address, by=actor())
    if user.email:
        console.print(f"Notifications by email for {escape(name)} go to {escape(user.email)}.")
    else:
        console.print(f"{escape(name)} gets no email; notifications show in the web app only.")


@users_app.command("list")
def users_list(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """The users, their roles, the partners they see and their email addresses."""
    from partnerscope.accounts import Accounts

    table = Table("user", "role", "partners", "API tokens", "email")
    accounts = Accounts.open(state(ctx).workspace())
    tokens: dict[str, int] = {}
    for token in accounts.tokens():
        if token.revoked_at is None:
            tokens[token.user] = tokens.get(token.user, 0) + 1
    for user in accounts.everyone():
        sees = (
            "all"
            if user.sees_all_partners
            else ", ".join(
                [*([user.partner_id] if user.partner_id else []), *user.partners]
                + ([f"managed by {user.manages}"] if user.manages else [])
            )
            or "none"
        )
        table.add_row(
            escape(user.name),
            user.role.value,
            escape(sees),
            str(tokens.get(user.name, 0)),
            escape(user.email or ""),
        )
    show(table, fmt)


@users_app.command("token")
def users_token(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
    revoke: Annotated[
        int | None, typer.Option(help="Revoke this token id instead of issuing one.")
    ] = None,
) -> None:
    """Issue an API token for a user (printed once: send it as `Authorization: Bearer ...`),
    or revoke one with --revoke ID."""
    from partnerscope.accounts import Accounts

    accounts = Accounts.open(state(ctx).workspace())
    if revoke is not None:
        token = accounts.revoke_token(revoke, by=actor())
        console.print(f"Revoked token {token.token_id} of {escape(token.user)}.")
        return
    token, secret = accounts.issue_token(name, label, by=actor())
    console.print(f"Token {token.token_id} for {escape(name)} (shown once, keep it secret):")
    print(secret)


@users_app.command("tokens")
def users_tokens(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only this user's tokens.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The API tokens (never their secrets): id, user, label, issued, revoked."""
    from partnerscope.accounts import Accounts

    table = Table("id", "user", "label", "issued", "revoked")
    for t in Accounts.open(state(ctx).workspace()).tokens(name):
        table.add_row(
            str(t.token_id),
            escape(t.user),
            escape(t.label),
            f"{t.created_at:%Y-%m-%d %H:%M}",
            f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "",
        )
    show(table, fmt)
