"""The account's own key pairs, made for the service layer's :class:`KeyMaker` port: an SSH
key pair (paramiko) for logging in to customers' SFTP servers, and a separate OpenPGP key
pair (GnuPG) that customers encrypt their files to, as the product keeps the two apart.
Both RSA 4096 by default; ``bits`` is there for tests that cannot wait for 4096.
"""

from __future__ import annotations

import io

import paramiko

from dialstream.handlers.accounts import SystemKeyPair
from processors.files import openpgp
from processors.files.sftp import fingerprint


class SystemKeys:
    """Makes key pairs: an SSH one in OpenSSH's forms, an OpenPGP one ASCII-armoured."""

    def __init__(self, bits: int = openpgp.KEY_BITS):
        self.bits = bits

    def ssh_key_pair(self, comment: str) -> SystemKeyPair:
        """OpenSSH's one-line public key (``ssh-rsa AAAA… comment``, for authorized_keys),
        its ``SHA256:`` fingerprint and the private key in PEM, unencrypted (the caller
        seals it)."""
        key = paramiko.RSAKey.generate(self.bits)
        private = io.StringIO()
        key.write_private_key(private)
        public = f"{key.get_name()} {key.get_base64()} {comment}"
        return SystemKeyPair(public, fingerprint(key), private.getvalue())

    def pgp_key_pair(self, name: str, email: str) -> SystemKeyPair:
        made = openpgp.generate_key_pair(name, email, bits=self.bits)
        return SystemKeyPair(made.public_armored, made.fingerprint.upper(), made.private_armored)
