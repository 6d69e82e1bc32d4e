"""The operator's tools behind /admin."""
