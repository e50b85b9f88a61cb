"""Seeded demo data: realistic partner exports with planted patterns, and their workspace config."""

from partnerscope.demo.generate import DemoManifest, generate_demo

__all__ = ["DemoManifest", "generate_demo"]
