"""``csst-strun``: stpipe's ``strun`` with the provider registered, for any mission's steps.

The command line is exactly ``strun``'s (a step or pipeline class, alias or parameter file,
the input, ``--override_<type>=...``, ``--steps.<name>.<parameter>=...``); the references,
``pars-*`` parameters, prefetch and the recorded context all come from the serverless cache
(``CSST_CRDS_PATH``, else ``CRDS_PATH``).

Examples
--------
::

    csst-strun romancal.dq_init.DQInitStep raw.asdf --override_mask=my_mask.asdf
    csst-strun jwst.dq_init.DQInitStep uncal.fits --output_dir out/
    csst-strun csst_level1 exposure_L0.fits --steps.dark.override_dark=N/A
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

__all__ = ["main"]


def _versions() -> str:
    import stpipe

    from csst_crds_plugin.stpipe_integration import SOFTWARE_VERSION

    return f"{SOFTWARE_VERSION}\nstpipe {stpipe.__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``strun`` with the plugin registered; returns the exit status (0, 1, or the step's)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--version" in args:
        print(_versions())
        return 0
    from stpipe import Step
    from stpipe.exceptions import StpipeExitException

    from csst_crds_plugin.stpipe_integration import activate

    try:
        with activate():
            Step.from_cmdline(args)
    except StpipeExitException as exc:
        return int(exc.exit_status)
    except SystemExit as exc:  # argparse's --help and usage errors
        return exc.code if isinstance(exc.code, int) else 1
    except Exception:  # noqa: BLE001 - strun's own behaviour: traceback, status 1
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
