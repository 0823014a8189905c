"""The README quickstart: one controller, a JSON endpoint and a validated POST."""

from __future__ import annotations

from pydantic import BaseModel

from patera import BaseConfig, HttpStatus, MediaType, Patera, Request, Response, app
from patera.controller import Controller, consumes, get, path, post, produces


class Config(BaseConfig):
    APP_NAME: str = "Hello"
    VERSION: str = "1.0"
    BASE_PATH: str = "."
    DEBUG: bool = True


class Greeting(BaseModel):
    name: str
    excited: bool = False


@path("/api")
class HelloController(Controller):
    @get("/hello/<name>")
    @produces(MediaType.APPLICATION_JSON)
    async def hello(self, req: Request, name: str) -> Response:
        """Say hello to someone."""
        return req.response.json({"message": f"Hello, {name}!"})

    @post("/greetings")
    @consumes(MediaType.APPLICATION_JSON)
    @produces(MediaType.APPLICATION_JSON, HttpStatus.CREATED)
    async def greet(self, req: Request, greeting: Greeting) -> Response[Greeting]:
        """Echo a validated greeting back."""
        return req.response.json(greeting)


@app(__name__, configs=Config)
class Application(Patera):
    pass


application = Application()
application.register_controller(HelloController)
