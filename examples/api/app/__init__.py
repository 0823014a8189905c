"""The example API application.

Start it from the repository root with ``patera run --app examples.api.app:Application``,
or from ``examples/api`` with ``patera run`` (app discovery finds this package).
"""

from __future__ import annotations

from patera import Patera, app, on_shutdown, on_startup

from .api.store import ItemStore
from .configs import Config


@app(__name__, configs=Config)
class Application(Patera):
    """Holds the in-memory item store; one store per application instance."""

    def __init__(self, cli_mode: bool = False) -> None:
        # Created before the base class loads controllers, so anything it loads may use it.
        self.items = ItemStore()
        super().__init__(cli_mode=cli_mode)

    @on_startup
    async def seed_store(self) -> None:
        """Start with one item, so a fresh server has something to show."""
        if not len(self.items):
            self.items.create({"name": "Example item", "price": 9.99, "tags": ["example"]})
        self.logger.info("{} {} started with {} item(s)", self.app_name, self.version, len(self.items))

    @on_shutdown
    async def say_goodbye(self) -> None:
        self.logger.info("{} stopped", self.app_name)
