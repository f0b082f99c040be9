"""``python -m channels.console create-user --username NAME --role staff|supervisor [--password-stdin]``."""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from channels.console.auth import hash_password
from channels.settings import GatewaySettings
from channels.store.store import Store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m channels.console")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-user", help="create a console user (argon2 password hash)")
    create.add_argument("--username", required=True)
    create.add_argument("--display-name")
    create.add_argument("--role", choices=["staff", "supervisor"], default="staff")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    create.add_argument("--database-url", help="default: TONGXIN_DATABASE_URL or the SQLite file")
    create.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")
    try:
        password_hash = hash_password(password)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    store = Store(args.database_url or GatewaySettings().database_url)
    store.migrate()
    if store.staff_by_username(args.username):
        print(f"error: user {args.username!r} exists", file=sys.stderr)
        return 2
    user = store.create_staff(args.username, args.display_name or args.username, password_hash, args.role)
    store.close()
    result = {"id": user.id, "username": user.username, "role": user.role}
    print(json.dumps(result) if args.json else f"created {user.role} {user.username} (id {user.id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
