"""Coverage-guided fuzz targets, one per parser; see fuzz/README.md."""
