"""Base types every layer uses: records, headers, errors, URLs, the version."""
