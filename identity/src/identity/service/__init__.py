"""identity's use cases, one module per part: accounts (staff accounts and their
passwords and second factor), sign_in (checking a person's credentials, throttled),
password_reset (a new password by an emailed one-time link),
keys (the signing keys and their rotation), tokens (what Authlib stores: codes and
refresh tokens) and audit (the record of who did what)."""
