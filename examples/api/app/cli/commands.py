"""Maintenance commands, run with ``python -m examples.api.cli <command>``."""

from __future__ import annotations

from patera.cli import CLIController, argument, command


class ItemCommands(CLIController):
    @command("add-item", help="Add an item to a fresh store and print it as JSON.")
    @argument("name", arg_type=str, description="Item name.")
    @argument("price", arg_type=float, description="Item price.")
    async def add_item(self, name: str, price: float) -> None:
        item = self.app.items.create({"name": name, "price": price})
        print(item.model_dump_json())

    @command("count", help="Print how many items the store holds after startup.")
    def count(self) -> None:
        print(len(self.app.items))
