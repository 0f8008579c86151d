"""SecretBox: encryption at rest with key rotation."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bizproc_app.storage.secret_box import SecretBox, SecretBoxError


def test_round_trip_and_ciphertext_hides_plaintext() -> None:
    box = SecretBox([Fernet.generate_key().decode()])
    token = box.encrypt("linkly-secret-value")
    assert "linkly-secret-value" not in token
    assert box.decrypt(token) == "linkly-secret-value"


def test_rotation_old_key_still_decrypts_and_rotate_moves_to_new_key() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = SecretBox([old]).encrypt("s3cret")
    rotated_box = SecretBox([new, old])
    assert rotated_box.decrypt(token) == "s3cret"
    assert SecretBox([new]).decrypt(rotated_box.rotate(token)) == "s3cret"


def test_wrong_key_raises_typed_error_without_leaking() -> None:
    token = SecretBox([Fernet.generate_key().decode()]).encrypt("s3cret")
    with pytest.raises(SecretBoxError) as err:
        SecretBox([Fernet.generate_key().decode()]).decrypt(token)
    assert "s3cret" not in str(err.value)


def test_no_keys_is_refused() -> None:
    with pytest.raises(ValueError):
        SecretBox([])
