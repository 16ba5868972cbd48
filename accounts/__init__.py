"""Accounts: password hashing (argon2), API tokens, roles and the ``users`` CLI. The store keeps
what these make (hashes, never secrets); the web app and the API ask these who may act."""
