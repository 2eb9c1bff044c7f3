"""The OpenAI API mapping: request encoding, operations, models, decoding."""
