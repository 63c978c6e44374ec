"""The settings hook (lesde_runtime.secret_files): LESDE_<FIELD>_FILE names the file of a secret that
LESDE_<FIELD> does not set, which is how compose hands our services the generated secrets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lesde_runtime import settings as lesde_settings
from lesde_runtime.secret_files import SecretFileError, secret_file_fields, secrets_from_files
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for var in list(os.environ):
        if var.startswith("LESDE_"):
            monkeypatch.delenv(var)


def secret(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_store_settings_read_both_keys_from_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert secret_file_fields(lesde_settings.StoreSettings) == ("s3_access_key", "s3_secret_key")
    monkeypatch.setenv("LESDE_S3_ACCESS_KEY_FILE", str(secret(tmp_path, "access", "lesde-0a1b2c\n")))
    monkeypatch.setenv("LESDE_S3_SECRET_KEY_FILE", str(secret(tmp_path, "secret", "  from-the-file  \n")))
    store = lesde_settings.StoreSettings()
    assert store.s3_access_key.get_secret_value() == "lesde-0a1b2c"
    assert store.s3_secret_key.get_secret_value() == "from-the-file"  # surrounding blanks dropped


def test_an_empty_variable_is_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # compose passes ${LESDE_S3_SECRET_KEY:-}: set, but empty, when .env has no value
    monkeypatch.setenv("LESDE_S3_ACCESS_KEY", "")
    monkeypatch.setenv("LESDE_S3_SECRET_KEY", "")
    monkeypatch.setenv("LESDE_S3_ACCESS_KEY_FILE", str(secret(tmp_path, "access", "lesde-0a1b2c")))
    monkeypatch.setenv("LESDE_S3_SECRET_KEY_FILE", str(secret(tmp_path, "secret", "generated")))
    assert lesde_settings.StoreSettings().s3_secret_key.get_secret_value() == "generated"


def test_a_value_set_directly_wins_and_its_file_is_not_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LESDE_S3_ACCESS_KEY", "from-env")
    monkeypatch.setenv("LESDE_S3_ACCESS_KEY_FILE", str(secret(tmp_path, "access", "from-file")))
    monkeypatch.setenv("LESDE_S3_SECRET_KEY", "secret-from-env")
    monkeypatch.setenv("LESDE_S3_SECRET_KEY_FILE", str(tmp_path / "missing"))  # never opened
    store = lesde_settings.StoreSettings()
    assert store.s3_access_key.get_secret_value() == "from-env"
    assert store.s3_secret_key.get_secret_value() == "secret-from-env"
    # and so does a constructor argument
    assert lesde_settings.StoreSettings(s3_access_key="given").s3_access_key.get_secret_value() == "given"


@pytest.mark.parametrize("content", [None, "", "\n  \n"], ids=["missing", "empty", "blank"])
def test_a_file_that_cannot_be_used_is_an_error_naming_variable_and_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "s3-secret-key"
    if content is not None:
        path.write_text(content)
    monkeypatch.setenv("LESDE_S3_ACCESS_KEY", "access-given-directly")
    monkeypatch.setenv("LESDE_S3_SECRET_KEY_FILE", str(path))
    with pytest.raises(SecretFileError) as caught:
        lesde_settings.StoreSettings()
    message = str(caught.value)
    assert f"LESDE_S3_SECRET_KEY_FILE={path}" in message
    assert "access-given-directly" not in message, "the error must not print the other secrets"


def test_an_unreadable_file_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder = tmp_path / "sub"
    folder.mkdir()
    monkeypatch.setenv("LESDE_S3_ACCESS_KEY_FILE", str(folder))  # a folder: no secret to read
    with pytest.raises(SecretFileError, match=f"LESDE_S3_ACCESS_KEY_FILE={folder}: cannot read"):
        lesde_settings.StoreSettings()


def test_without_either_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    # The old rule stands: S3 without keys refuses to start; the local store needs none.
    with pytest.raises(ValueError, match="LESDE_S3_ACCESS_KEY and LESDE_S3_SECRET_KEY must be set"):
        lesde_settings.StoreSettings()
    monkeypatch.setenv("LESDE_STORE", "local")
    assert lesde_settings.StoreSettings().s3_access_key is None


def test_the_hook_works_for_any_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    class Other(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="OTHER_", extra="ignore")
        token: SecretStr | None = None
        plain: str = "x"
        _files = secrets_from_files("token")

    monkeypatch.setenv("OTHER_TOKEN_FILE", str(secret(tmp_path, "t", "tok")))
    monkeypatch.setenv("OTHER_PLAIN_FILE", str(tmp_path / "missing"))  # not a listed field: ignored
    other = Other()
    assert other.token.get_secret_value() == "tok" and other.plain == "x"
    assert secret_file_fields(Other) == ("token",)
    assert "_files" not in Other.model_fields and not Other.__private_attributes__
