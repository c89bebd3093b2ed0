"""Use cases. Services own their transactions and never touch `request`."""
