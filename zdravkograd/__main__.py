"""``python -m zdravkograd``: the same as the ``zdravkograd`` command."""

import sys

from zdravkograd.cli import main

if __name__ == "__main__":
    sys.exit(main())
