"""/advice: "needs advice" posts, recommendations voted with reactions, verdicts."""
