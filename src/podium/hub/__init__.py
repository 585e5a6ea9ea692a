"""hub layer (see ARCHITECTURE.md)."""
