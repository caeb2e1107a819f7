"""Reading source files: discovery, parsing, per-file summaries."""
