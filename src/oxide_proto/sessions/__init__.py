"""WebSocket event sessions: reconnection, Responses turns, Realtime audio."""
