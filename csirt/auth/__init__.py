"""Staff accounts, roles and permissions, sign-in, API tokens."""
