"""Shared core: the error tree, the settings table and logging."""
