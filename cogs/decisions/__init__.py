"""/decision: "we chose X over Y because …", agreed with 👍."""
