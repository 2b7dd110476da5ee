"""sources stage of the truceline pipeline (see docs/ARCHITECTURE.md)."""
