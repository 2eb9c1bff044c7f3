"""The async driver: the only hand-written copy of the I/O logic (blocking code is generated)."""
