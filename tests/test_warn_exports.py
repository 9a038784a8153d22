"""The public surface of skywarden.warn is what its __all__ says."""

import skywarden.warn as warn


def test_every_exported_name_exists_and_nothing_private_is_exported():
    for name in warn.__all__:
        assert hasattr(warn, name), name
        assert not name.startswith("_")
    assert warn.__all__ == sorted(warn.__all__)
