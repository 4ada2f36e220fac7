import sys

from slpterm.cli import main

sys.exit(main())
