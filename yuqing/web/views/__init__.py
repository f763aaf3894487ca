"""One module per page family; each exposes ``router``. Views stay thin: services do the work."""
