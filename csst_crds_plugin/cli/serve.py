"""``csst-crds serve``: the web console over a cache (browse, compare, submit, activate).

Browsing is open; submitting, activating and marking bad files need the token of a user with
that role (`csst-crds users add`). Binds 127.0.0.1 unless --host says otherwise. Needs the
optional extra `web` (pip install 'csst-crds-plugin[web]').
"""

from __future__ import annotations

import argparse
import importlib.util
import sys

from csst_crds_plugin.cli._common import add_cache_option, add_observatory_option
from csst_crds_plugin.errors import ConfigurationError

__all__ = ["NAME", "add_arguments", "require_web", "run"]

NAME = "serve"

EXAMPLES = """\
examples:
  csst-crds serve --cache /data/crds_cache                  # http://127.0.0.1:8000/
  csst-crds serve --port 8080 --max-upload-mb 4096
  csst-crds serve --host 0.0.0.0                            # other machines too: mind the tokens
"""


def require_web() -> None:
    """Raise a clear error when the `web` extra is not installed."""
    missing = [m for m in ("starlette", "jinja2", "uvicorn", "multipart")
               if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigurationError(f"the console needs {', '.join(missing)}: install the extra "
                                 "with pip install 'csst-crds-plugin[web]'")


def _port(text: str) -> int:
    """A TCP port number, 0 to 65535 (argparse reports anything else as bad usage)."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return port


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    add_cache_option(parser)
    add_observatory_option(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8000, help="port (8000; 0: any free one)")
    parser.add_argument("--max-upload-mb", type=float, default=1024.0,
                        help="largest accepted upload request, in MB (1024)")
    parser.add_argument("--upload-dir", help="where uploads wait for confirmation "
                                             "(default: the system's temporary folder)")


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    require_web()
    import uvicorn

    from csst_crds_plugin.settings import get_settings
    from csst_crds_plugin.web.app import create_app

    cache = args.cache or get_settings().cache_root
    app = create_app(cache, observatory=args.observatory, max_upload_mb=args.max_upload_mb,
                     upload_dir=args.upload_dir)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"csst-crds serve: listening on {args.host}: other machines can reach the "
              "console; browsing needs no token", file=sys.stderr)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning")
    server = uvicorn.Server(config)
    print(f"csst-crds console for {cache} on http://{args.host}:{args.port}/ (Ctrl-C stops)",
          flush=True)
    server.run()
    return 0
