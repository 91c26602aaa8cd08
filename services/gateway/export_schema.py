"""Prints the gateway's SDL: `python -m services.gateway.export_schema > services/gateway/schema.graphql`."""

from __future__ import annotations

import sys

from services.gateway.schema import sdl


def main() -> None:
    sys.stdout.write(sdl())


if __name__ == "__main__":
    main()
