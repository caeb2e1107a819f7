"""Reading the policy file: discovery, TOML key positions and strict validation (CONTRACTS §1-2)."""
