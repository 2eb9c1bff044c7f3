"""The official SDK's own API tests, run against oxide (see README.md)."""
