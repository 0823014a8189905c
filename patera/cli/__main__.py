"""``python -m patera.cli`` runs the ``patera`` command."""

from __future__ import annotations

from ._main import main

raise SystemExit(main())
