"""Users, roles, passwords (argon2id), the TOTP second factor, sessions and API tokens."""
