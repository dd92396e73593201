"""A software WebAuthn authenticator for functional tests, on ``cryptography`` and
``cbor2``.

It answers the credential options Flask-Security sends (``navigator.credentials``
``create`` and ``get``) with what a browser would post back through the library's
``webauthn.js``: "none" attestation, an ES256 (P-256) key per credential, the user
present and (by default) user verified flags set, and a signature counter.

Written for the tests because the PyPI ``soft-webauthn`` pins an older
``cryptography`` than Flask-Security 5.9 needs and never sets the user-verified flag.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

FLAG_UP = 0x01  # user present
FLAG_UV = 0x04  # user verified
FLAG_AT = 0x40  # attested credential data included
AAGUID = bytes(16)  # "none" attestation: all zeros


def b64url(data: bytes) -> str:
    """Return ``data`` as unpadded base64url."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    """Return the bytes of (possibly unpadded) base64url ``text``."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftCredential:
    """One credential (key pair) the authenticator holds."""

    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0

    def cose_public_key(self) -> bytes:
        """Return the public key as a COSE_Key (EC2, P-256, ES256)."""
        numbers = self.private_key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )


class SoftAuthenticator:
    """A platform-like authenticator that keeps its credentials in memory."""

    def __init__(self, user_verified: bool = True):
        self.user_verified = user_verified
        self.credentials: list[SoftCredential] = []

    def _flags(self, extra: int = 0) -> int:
        return FLAG_UP | (FLAG_UV if self.user_verified else 0) | extra

    def create(self, options: dict | str, origin: str) -> str:
        """Make a credential for the registration ``options``; return the JSON the
        library's ``handleRegister`` would post."""
        options = json.loads(options) if isinstance(options, str) else options
        rp_id = options["rp"]["id"]
        cred = SoftCredential(
            credential_id=os.urandom(32),
            private_key=ec.generate_private_key(ec.SECP256R1()),
            rp_id=rp_id,
            user_handle=unb64url(options["user"]["id"]),
        )
        self.credentials.append(cred)
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        attested = AAGUID + struct.pack(">H", len(cred.credential_id)) + cred.credential_id
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags(FLAG_AT)])
            + struct.pack(">I", cred.sign_count)
            + attested
            + cred.cose_public_key()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps(
            {
                "id": b64url(cred.credential_id),
                "rawId": b64url(cred.credential_id),
                "type": "public-key",
                "response": {
                    "attestationObject": b64url(attestation),
                    "clientDataJSON": b64url(client_data),
                    "transports": ["internal"],
                },
                "extensions": json.dumps({"credProps": {"rk": True}}),
            }
        )

    def get(
        self, options: dict | str, origin: str, tamper: bool = False, any_key: bool = False
    ) -> str:
        """Sign the sign-in ``options`` challenge with a matching credential; return
        the JSON the library's ``handleSignin`` would post. ``tamper`` spoils the
        signature (a failed passkey); ``any_key`` ignores the server's list of
        allowed credentials, as a hostile client would."""
        options = json.loads(options) if isinstance(options, str) else options
        rp_id = options.get("rpId")
        allowed = set()
        if not any_key:
            allowed = {unb64url(c["id"]) for c in options.get("allowCredentials") or []}
        cred = next(
            c
            for c in reversed(self.credentials)
            if c.rp_id == rp_id and (not allowed or c.credential_id in allowed)
        )
        cred.sign_count += 1
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags()])
            + struct.pack(">I", cred.sign_count)
        )
        signed = client_data + (b" tampered" if tamper else b"")
        signature = cred.private_key.sign(
            auth_data + hashlib.sha256(signed).digest(), ec.ECDSA(hashes.SHA256())
        )
        return json.dumps(
            {
                "id": b64url(cred.credential_id),
                "rawId": b64url(cred.credential_id),
                "type": "public-key",
                "response": {
                    "authenticatorData": b64url(auth_data),
                    "clientDataJSON": b64url(client_data),
                    "signature": b64url(signature),
                    "userHandle": b64url(cred.user_handle),
                },
                "assertionClientExtensions": "{}",
            }
        )

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False},
            separators=(",", ":"),
        ).encode()
