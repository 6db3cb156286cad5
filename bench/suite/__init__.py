"""The bench suite behind bench/run, one module per concern (see bench/README.md)."""
