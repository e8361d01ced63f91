"""Shared pytest set-up. Being here puts `tests/` on the import path, so every test file can
`import strategies` (the hypothesis strategies, kept in one file)."""
