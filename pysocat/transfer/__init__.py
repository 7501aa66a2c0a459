"""The transfer engine: moves bytes between two Endpoints; knows nothing of address types."""
