"""/compare, /tool, /alternatives: tools side by side."""
