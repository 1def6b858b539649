"""The staff console's home."""
