"""An API instance's way to the ACH runtime, shared by its requests."""

from __future__ import annotations

import threading

from connectors.ach.client import AchClient
from connectors.ach.topics import AchTopics

__all__ = ["AchGateway"]


class AchGateway:
    """An API instance's way to the ACH runtime. The client is made on first use: the ACH
    topics may be created (``ledger ach setup``) after the API starts."""

    def __init__(self, bootstrap: str, prefix: str, webhook_key: bytes | None = None) -> None:
        self.bootstrap = bootstrap
        self.prefix = prefix
        # The decisioning webhook's signing key for received files (never logged).
        self.webhook_key = webhook_key
        self._client: AchClient | None = None
        self._making = threading.Lock()

    def client(self) -> AchClient:
        """The instance's ACH client, shared by its requests (its waits are thread-safe)."""
        with self._making:
            if self._client is None:
                self._client = AchClient(self.bootstrap, self.prefix)
            return self._client

    def topics(self) -> AchTopics:
        """The ACH topics with their partition count."""
        return self.client().topics

    def close(self) -> None:
        """Stop the client, if one was made."""
        with self._making:
            if self._client is not None:
                self._client.close()
