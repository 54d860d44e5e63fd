"""Shared test set-up: no network, caches in temporary folders."""

from __future__ import annotations

import os

# Hard rule: nothing may reach a hub at run time. Set before anything imports HF libraries.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
