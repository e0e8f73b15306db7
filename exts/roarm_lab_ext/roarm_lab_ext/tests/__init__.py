"""Kit tests of the extension (they import omni and run only inside Kit: ``[[test]]`` in config/extension.toml)."""

try:
    import omni.kit.test  # noqa: F401
except ImportError:  # outside Kit: nothing to register
    pass
else:
    from .test_window import *  # noqa: F403
