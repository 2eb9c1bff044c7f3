"""WebSocket sessions: frames, events, reconnection."""
