"""Proctor's settings: one pydantic-settings model, built once at each entry point and passed in."""

from config.settings import Settings

__all__ = ["Settings"]
