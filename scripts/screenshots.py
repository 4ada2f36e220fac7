"""Regenerate screenshots/*.svg from the real app on the demo clinic: python scripts/screenshots.py"""

from slpterm.screenshots import main

if __name__ == "__main__":
    raise SystemExit(main())
