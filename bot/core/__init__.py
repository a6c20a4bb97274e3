"""Pure logic: matching, tallies and rankings, deadlines, differences, rules. No Discord, no
database: plain functions and dataclasses, tested with plain asserts."""
