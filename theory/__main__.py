"""``python -m theory``: see ``python -m theory --help``."""

import sys

from theory._runner import main

if __name__ == "__main__":  # not when a spawned worker process imports this module
    sys.exit(main())
