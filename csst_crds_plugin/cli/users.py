"""``csst-crds users``: the console's users, their roles and tokens (kept hashed in the cache).

Roles: submit (deliver references through the console), activate (make a context
operational), bad (mark and unmark bad files). Browsing needs no token. A token is printed once,
when it is made; only its SHA-256 is stored, in config/<obs>/users.json.
"""

from __future__ import annotations

import argparse
import json

from csst_crds_plugin.cli._common import (
    add_cache_option,
    add_format_option,
    add_observatory_option,
)

__all__ = ["NAME", "add_arguments", "run"]

NAME = "users"

EXAMPLES = """\
examples:
  csst-crds users add alice --role submit --role activate     # prints alice's token once
  csst-crds users token alice                                 # a new token (the old one stops)
  csst-crds users roles bob --role bad
  csst-crds users remove bob
  csst-crds users list --format json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    parser.add_argument("action", choices=("add", "token", "roles", "remove", "list"))
    parser.add_argument("name", nargs="?", help="the user (not for list)")
    parser.add_argument("--role", action="append", default=[],
                        help="submit, activate or bad (repeatable)")
    add_cache_option(parser)
    add_observatory_option(parser)
    add_format_option(parser)


def run(args: argparse.Namespace) -> int:
    """Do the action; print a new token once."""
    from csst_crds_plugin.tools.listing import layout_for
    from csst_crds_plugin.tools.users import (
        UserError,
        add_user,
        list_users,
        remove_user,
        set_roles,
    )

    layout = layout_for(args.cache, args.observatory)
    if args.action == "list":
        users = list_users(layout)
        if args.format == "json":
            print(json.dumps([{"name": u.name, "roles": list(u.roles), "created": u.created}
                              for u in users], indent=2))
        for user in users if args.format == "text" else []:
            print(f"{user.name}  {','.join(user.roles) or '(no roles)'}  since {user.created}")
        return 0
    if not args.name:
        raise UserError(f"`csst-crds users {args.action}` needs a user name")
    if args.action in ("add", "token"):
        if args.action == "add" and not args.role:
            raise UserError("give the new user one or more --role (submit, activate, bad)")
        token = add_user(layout, args.name, args.role, replace=args.action == "token")
        if args.format == "json":
            print(json.dumps({"name": args.name, "token": token}))
        else:
            print(f"token for {args.name} (shown once; keep it secret): {token}")
    elif args.action == "roles":
        user = set_roles(layout, args.name, args.role)
        print(f"{user.name}: {','.join(user.roles) or '(no roles)'}")
    else:
        remove_user(layout, args.name)
        print(f"removed {args.name}")
    return 0
