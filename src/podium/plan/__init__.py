"""plan layer (see ARCHITECTURE.md)."""
