"""Email (SPEC §17.4): ``from patera.email import EmailClient``.

Uses aiosmtplib (``patera[email]``) when installed, else the standard library's
``smtplib`` in the thread pool; templated emails need ``patera[templates]``.
"""

from ._client import EmailClient
from ._transport import EmailDeliveryError

__all__ = ("EmailClient", "EmailDeliveryError")
