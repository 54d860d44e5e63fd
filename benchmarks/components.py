"""Build components from config: the one place that calls `hydra.utils.instantiate`."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf


def build(node: DictConfig, /, **overrides: Any) -> Any:
    """Instantiate a config leaf (``_target_`` plus arguments), with keyword ``overrides``."""
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    from benchmarks.errors import ConfigError

    if "_target_" not in node:
        raise ValueError(f"config node has no _target_: {OmegaConf.to_yaml(node)}")
    try:
        return instantiate(node, **overrides)
    except InstantiationException as error:
        # Hydra wraps whatever the target raised; a user-facing error keeps its own message.
        if isinstance(error.__cause__, ConfigError):
            raise error.__cause__ from None
        # A constructor's ValueError is a setting it refused: say which config, in one line.
        if isinstance(error.__cause__, ValueError):
            raise ConfigError(f"{node._target_}: {error.__cause__}") from None
        raise


def plain(node: DictConfig, *, drop: tuple[str, ...] = ("_target_",)) -> dict[str, Any]:
    """Return a resolved config node as a plain dict, without ``drop`` keys."""
    data = OmegaConf.to_container(node, resolve=True)
    assert isinstance(data, dict)
    return {str(k): v for k, v in data.items() if k not in drop}
