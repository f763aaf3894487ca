"""CLI command groups, one module per area; yuqing/cli.py wires them."""
