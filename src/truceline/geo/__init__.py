"""geo stage of the truceline pipeline (see docs/ARCHITECTURE.md)."""
