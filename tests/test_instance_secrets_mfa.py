"""The multi-factor secrets are generated into the instance folder like the others,
or taken from the environment."""

from __future__ import annotations

from cryptography.fernet import Fernet

from diary import instance_secrets


def test_mfa_secrets_are_generated_once(tmp_path):
    first = instance_secrets.load_or_create(str(tmp_path))
    assert set(first["SECURITY_TOTP_SECRETS"]) == {"1"}
    Fernet(first["SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS"][0])  # a valid key
    assert instance_secrets.load_or_create(str(tmp_path)) == first


def test_older_secrets_file_gains_the_new_secrets(tmp_path):
    (tmp_path / "secrets.json").write_text('{"SECRET_KEY": "k", "SECURITY_PASSWORD_SALT": "s"}')
    stored = instance_secrets.load_or_create(str(tmp_path))
    assert stored["SECRET_KEY"] == "k" and stored["SECURITY_TOTP_SECRETS"]


def test_configured_secrets_are_kept(tmp_path):
    config = {
        "SECRET_KEY": "k",
        "SECURITY_PASSWORD_SALT": "s",
        "SECURITY_TOTP_SECRETS": {"2": "from-env"},
        "SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS": [Fernet.generate_key().decode()],
    }
    before = dict(config)
    instance_secrets.apply(config, str(tmp_path))
    assert config == before
    assert not (tmp_path / "secrets.json").exists()
