"""From framework facts to neutral effective-policy fields."""
