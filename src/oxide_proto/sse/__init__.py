"""Server-sent events and the OpenAI streaming protocol on top of them."""
