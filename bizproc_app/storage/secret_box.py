"""Encryption of secrets at rest with Fernet; the first key encrypts, all keys decrypt."""

from __future__ import annotations

from collections.abc import Iterable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretBoxError(RuntimeError):
    """A stored secret could not be decrypted with any configured key."""


class SecretBox:
    """Encrypt and decrypt short secrets; supports key rotation through MultiFernet."""

    def __init__(self, keys: Iterable[str]) -> None:
        fernets = [Fernet(k.encode()) for k in keys]
        if not fernets:
            raise ValueError("at least one encryption key is required")
        self._fernet = MultiFernet(fernets)

    def encrypt(self, plaintext: str) -> str:
        """Return the Fernet token for plaintext."""
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        """Return the plaintext of a Fernet token."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise SecretBoxError("stored secret cannot be decrypted with any key") from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt a token under the first (newest) key."""
        return self._fernet.rotate(token.encode()).decode()
