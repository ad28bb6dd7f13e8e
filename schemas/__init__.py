"""pandera schemas: a raw model per input (what a supplier delivers, as text) and a clean model that
inherits from it (what may enter the warehouse). Validation is always lazy: all failures at once."""
