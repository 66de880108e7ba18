"""Aliases so each document's client examples run with only their import line changed."""
