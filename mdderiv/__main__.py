"""``python -m mdderiv`` runs the command line."""

from mdderiv.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
