"""Personal data at rest: the encrypted field, key rotation, blind indexes, and production refusing the
development keys."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import FieldError
from django.db import connection, models
from django.db.migrations.writer import MigrationWriter
from django.test import override_settings
from django.test.utils import isolate_apps

from tests.core.test_settings import STRONG_KEY, _wuye
from wuye.core.crypto import (
    DecryptionError,
    EncryptedTextField,
    blind_index,
    decrypt,
    encrypt,
    reencrypt,
)

ID_NUMBER = "11010519491231002X"
OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
INDEX_KEY = "an-index-key-for-tests-only-0123456789-abcdefghijklmnop"


# ------------------------------------------------------------------------------------------- the field
def test_the_prepared_value_is_ciphertext_and_differs_every_time() -> None:
    field = EncryptedTextField()
    first, second = field.get_prep_value(ID_NUMBER), field.get_prep_value(ID_NUMBER)
    assert ID_NUMBER not in first and ID_NUMBER not in second
    assert first != second, "a fresh IV each time: equal plaintexts must not give equal ciphertexts"
    assert field.from_db_value(first, None, connection) == ID_NUMBER
    assert field.from_db_value(second, None, connection) == ID_NUMBER


def test_the_ciphertext_opens_with_the_configured_key_outside_the_field() -> None:
    # Independent of the field's own decryption: the cryptography library with the key from settings.
    from django.conf import settings

    token = EncryptedTextField().get_prep_value(ID_NUMBER)
    assert Fernet(settings.FIELD_ENCRYPTION_KEYS[0]).decrypt(token.encode()).decode() == ID_NUMBER


@pytest.mark.parametrize("value", ["", None])
def test_blank_and_null_are_stored_as_they_are(value: str | None) -> None:
    field = EncryptedTextField(blank=True, null=True)
    assert field.get_prep_value(value) == value
    assert field.from_db_value(value, None, connection) == value


def test_non_ascii_text_round_trips() -> None:
    field = EncryptedTextField()
    address = "深圳市南山区科技园 3 栋 1201"
    assert field.from_db_value(field.get_prep_value(address), None, connection) == address
    assert field.to_python(12345) == "12345"


@pytest.mark.django_db
def test_round_trip_through_postgresql() -> None:
    field = EncryptedTextField()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE encrypted_round_trip (value text)")
        cursor.execute(
            "INSERT INTO encrypted_round_trip (value) VALUES (%s)", [field.get_db_prep_save(ID_NUMBER, connection)]
        )
        cursor.execute("SELECT value FROM encrypted_round_trip WHERE value LIKE %s", [f"%{ID_NUMBER}%"])
        assert cursor.fetchall() == [], "the plaintext is in the table"
        cursor.execute("SELECT value FROM encrypted_round_trip")
        (stored,) = cursor.fetchone()
    assert field.from_db_value(stored, None, connection) == ID_NUMBER


def test_the_field_deconstructs_for_migrations() -> None:
    field = EncryptedTextField(blank=True, null=True, verbose_name="ID number")
    _name, path, args, kwargs = field.deconstruct()
    assert path == "wuye.core.crypto.EncryptedTextField"
    rebuilt = EncryptedTextField(*args, **kwargs)
    assert (rebuilt.blank, rebuilt.null, rebuilt.verbose_name) == (True, True, "ID number")
    serialized, imports = MigrationWriter.serialize(field)
    assert serialized.startswith("wuye.core.crypto.EncryptedTextField(") and "import wuye.core.crypto" in imports


def test_lookups_on_ciphertext_are_refused() -> None:
    field = EncryptedTextField()
    for name in ("icontains", "startswith", "in", "gt", "regex"):
        assert field.get_lookup(name) is None, name
    assert field.get_transform("lower") is None
    lhs = models.Value("", output_field=field)
    with pytest.raises(FieldError, match="blind index"):
        field.get_lookup("exact")(lhs, ID_NUMBER)  # type: ignore[misc]
    assert field.get_lookup("exact")(lhs, "").rhs == ""  # type: ignore[misc]
    assert field.get_lookup("isnull") is not None


@isolate_apps("wuye.core")
def test_a_unique_encrypted_field_fails_the_system_check() -> None:
    class Holder(models.Model):
        secret = EncryptedTextField(unique=True)

        class Meta:
            app_label = "core"
            managed = False

        def __str__(self) -> str:
            return "holder"

    errors = Holder._meta.get_field("secret").check()
    assert [error.id for error in errors] == ["core.E001"]


# ------------------------------------------------------------------------------------------- rotation
def test_key_rotation() -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        old_token = encrypt(ID_NUMBER)
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        assert decrypt(old_token) == ID_NUMBER
        field = EncryptedTextField()
        assert field.from_db_value(old_token, None, connection) == ID_NUMBER
        new_token = encrypt(ID_NUMBER)
        rotated = reencrypt(old_token)
    # The first key encrypts: new tokens (and rotated ones) open with it alone, not with the old key.
    for token in (new_token, rotated):
        assert Fernet(NEW_KEY).decrypt(token.encode()).decode() == ID_NUMBER
        with pytest.raises(InvalidToken):
            Fernet(OLD_KEY).decrypt(token.encode())
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        assert decrypt(rotated) == ID_NUMBER
        with pytest.raises(DecryptionError) as caught:
            decrypt(old_token)
    assert old_token not in str(caught.value) and OLD_KEY not in str(caught.value)


# ------------------------------------------------------------------------------------------- blind index
def test_the_blind_index_is_stable_and_normalised() -> None:
    with override_settings(BLIND_INDEX_KEY=INDEX_KEY):
        index = blind_index(ID_NUMBER, purpose="households.owner.id_number")
        assert index == blind_index(ID_NUMBER, purpose="households.owner.id_number")
        assert index == blind_index(" 110105 19491231 002x ", purpose="households.owner.id_number")
        assert index != blind_index("11010519491231003X", purpose="households.owner.id_number")
    assert len(index) == 64 and int(index, 16) >= 0
    # Keyed: not a bare hash of the value, nor an HMAC under the configured key itself.
    assert index != hashlib.sha256(ID_NUMBER.encode()).hexdigest()
    assert index != hmac.new(INDEX_KEY.encode(), ID_NUMBER.encode(), hashlib.sha256).hexdigest()


def test_purposes_have_separate_indexes() -> None:
    with override_settings(BLIND_INDEX_KEY=INDEX_KEY):
        assert blind_index(ID_NUMBER, purpose="owner.id_number") != blind_index(ID_NUMBER, purpose="occupant.id_number")


def test_the_blind_index_has_its_own_key() -> None:
    with override_settings(BLIND_INDEX_KEY=INDEX_KEY, FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        before = blind_index(ID_NUMBER, purpose="owner.id_number")
    with override_settings(BLIND_INDEX_KEY=INDEX_KEY, FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        assert blind_index(ID_NUMBER, purpose="owner.id_number") == before, "rotating field keys changed the index"
    with override_settings(BLIND_INDEX_KEY=INDEX_KEY[::-1], FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        assert blind_index(ID_NUMBER, purpose="owner.id_number") != before


def test_blind_index_of_blank_and_without_purpose() -> None:
    assert blind_index("  ", purpose="owner.id_number") == ""
    with pytest.raises(ValueError, match="purpose"):
        blind_index(ID_NUMBER, purpose="")


# ------------------------------------------------------------------------------------------- settings
PRODUCTION = {"WUYE_ENV": "production", "WUYE_SECRET_KEY": STRONG_KEY}
GOOD_FIELD_KEYS = f"{NEW_KEY},{OLD_KEY}"


def test_production_refuses_the_development_field_key() -> None:
    result = _wuye("check", **PRODUCTION, WUYE_BLIND_INDEX_KEY=INDEX_KEY)
    assert result.returncode != 0
    assert "refuses the development field encryption key" in result.stderr


def test_production_refuses_the_development_field_key_even_behind_another() -> None:
    from wuye.settings.security import DEVELOPMENT_FIELD_KEY

    result = _wuye(
        "check", **PRODUCTION, WUYE_FIELD_KEYS=f"{NEW_KEY},{DEVELOPMENT_FIELD_KEY}", WUYE_BLIND_INDEX_KEY=INDEX_KEY
    )
    assert result.returncode != 0
    assert "refuses the development field encryption key" in result.stderr


def test_production_refuses_the_development_blind_index_key() -> None:
    result = _wuye("check", **PRODUCTION, WUYE_FIELD_KEYS=GOOD_FIELD_KEYS)
    assert result.returncode != 0
    assert "refuses the development blind index key" in result.stderr


def test_a_malformed_field_key_is_refused_without_being_echoed() -> None:
    bad = "not-a-fernet-key-but-a-secret-all-the-same"
    result = _wuye("check", WUYE_FIELD_KEYS=f"{NEW_KEY},{bad}")
    assert result.returncode != 0
    assert "WUYE_FIELD_KEYS: key 2 is not a Fernet key" in result.stderr
    assert bad not in result.stderr


def test_a_short_blind_index_key_is_refused() -> None:
    result = _wuye("check", **PRODUCTION, WUYE_FIELD_KEYS=GOOD_FIELD_KEYS, WUYE_BLIND_INDEX_KEY="short")
    assert result.returncode != 0
    assert "WUYE_BLIND_INDEX_KEY must be at least 32 characters" in result.stderr


def test_production_starts_with_keys_of_its_own() -> None:
    result = _wuye("check", **PRODUCTION, WUYE_FIELD_KEYS=GOOD_FIELD_KEYS, WUYE_BLIND_INDEX_KEY=INDEX_KEY)
    assert result.returncode == 0, result.stderr
