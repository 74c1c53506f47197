"""Pure domain: entities, value objects and business rules. Standard library only."""
