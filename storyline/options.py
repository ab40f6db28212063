"""What a run can be configured with: the library's :class:`Options`, which the CLI's flags map
onto, and how they become the settings of its model calls."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tenacity import Retrying

from .calls import CallSettings
from .ranking import KEY_EVENTS
from .reading import READ_SHARE


@dataclass
class Options:
    """Everything a run can be configured with (the CLI flags map onto these).

    ``backend_options`` are the model backend's own settings (for llama.cpp: ``context_window``,
    ``threads``, ``batch_size``, ...); the backend validates them.
    """

    model: str | None = None
    backend_options: dict[str, Any] = field(default_factory=dict)
    prompts: str | Path | None = None
    published: dt.date | None = None
    seed: int = 0
    temperature: float = 0.0
    max_retries: int | Retrying = 2
    cache_dir: Path | None = None
    use_cache: bool = True
    max_chunk_tokens: int = 2048
    parallel: int | None = None
    """Model calls in flight (default: what the backend suggests: the replies llama.cpp writes
    together, the requests a server is sent at once)."""
    read_share: float | None = READ_SHARE
    """The share of a large story's text the model reads (``reading``); None: every sentence."""
    top: int = KEY_EVENTS
    """Key events: the lead events of this many best-supported days (``ranking``), shown first."""
    adjudicate: bool = False
    progress: bool = False

    def call_settings(self) -> CallSettings:
        return CallSettings(temperature=self.temperature, seed=self.seed, max_retries=self.max_retries,
                            parallel=self.parallel, progress=self.progress)
