"""/stack, /follow: what members use and the tools they follow."""
