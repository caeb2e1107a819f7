"""Python-specific analysis: syntax summaries, name resolution, static evaluation."""
