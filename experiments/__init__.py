"""Recipe comparisons in torch.nn behind the reference model's choices, and the command that trains it."""
