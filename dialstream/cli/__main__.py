"""``python -m dialstream.cli``: the ``dialstream`` command without the installed script."""

import sys

from dialstream.cli import main

sys.exit(main())
