"""``python -m csst_crds_plugin`` runs ``csst-crds``."""

import sys

from csst_crds_plugin.cli.main import main

sys.exit(main())
