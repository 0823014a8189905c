"""Command line: the ``patera`` console script and CLI controllers (SPEC §15).

Importing this package loads only the standard library and patera's own modules, so the
app can check for ``CLIController`` subclasses without pulling in the server.
"""

from __future__ import annotations

from ._controllers import CLIController, argument, command, run_cli
from ._main import main

__all__ = ("CLIController", "argument", "command", "main", "run_cli")
