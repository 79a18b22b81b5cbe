"""Job stores and runners."""
