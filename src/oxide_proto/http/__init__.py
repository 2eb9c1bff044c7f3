"""HTTP/1.1 and HTTP/2 connections, content decoding, the pool, proxies, redirects, retries."""
