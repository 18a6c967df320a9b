"""Integrations: the Python-Markdown fence, the MkDocs plugin, blog posts.

Each is a thin layer over :func:`mdderiv.derive`; what they share (info-line
options, the outcome of one block, the cache) lives in :mod:`.blocks`.
"""

from __future__ import annotations

__all__: list[str] = []
