"""/pros and /cons: members' reasons for and against tools, voted with reactions."""
