"""Cases: the unit of incident response."""
