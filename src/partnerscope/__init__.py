"""partnerscope: channel-partner analytics with locked definitions and a decision record."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("partnerscope")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
