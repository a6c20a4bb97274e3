"""What every feature's cogs share: Discord I/O helpers, checks, debouncing, the pager."""
