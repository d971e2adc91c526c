"""Start-up time of pyNN.s2 (docs/pynn.md, "Start-up"): neo, which PyNN imports, imports
scipy.signal (and through it scipy.stats) when it is imported, for two methods a PyNN
script seldom calls (AnalogSignal.downsample and .resample); that import is about half of
`import pyNN.s2`. Before pyNN is imported, this module puts a deferred stand-in for
scipy.signal into sys.modules: the real module is imported, whole and unchanged, the first
time any attribute of it is used (by neo or by the script), so nothing behaves differently;
only its cost moves to where it is needed. A script that imported scipy.signal (or neo)
before pyNN.s2 is not touched, nor is one run with S2_PYNN_EAGER_IMPORTS=1 in the
environment."""
import importlib
import importlib.util
import os
import sys
import types

DEFERRED = ("scipy.signal",)


class _Deferred(types.ModuleType):
    """A module that imports its real self on the first use of an attribute it lacks, and
    then answers every such use from it. Its own attributes are the import system's
    (__spec__, __path__, ...), so `import scipy.signal` elsewhere finds it without
    triggering the import."""

    def _s2_load(self):
        d = self.__dict__
        real = d.get("_s2_real")
        if real is None:
            name = self.__name__
            if sys.modules.get(name) is self:
                del sys.modules[name]
            try:
                real = importlib.import_module(name)
            except BaseException:
                sys.modules.setdefault(name, self)
                raise
            d["_s2_real"] = real
        return real

    def __getattr__(self, attr):
        return getattr(self._s2_load(), attr)

    def __dir__(self):
        return dir(self._s2_load())


def defer(name):
    """Put a deferred stand-in for the module name into sys.modules (its parent package is
    imported now); nothing if it is imported already, cannot be found, or deferring is
    switched off. @return True if the stand-in was installed."""
    if name in sys.modules or os.environ.get("S2_PYNN_EAGER_IMPORTS"):
        return False
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    m = _Deferred(name)
    m.__spec__ = spec
    m.__loader__ = spec.loader
    m.__file__ = spec.origin
    if spec.submodule_search_locations is not None:
        m.__path__ = list(spec.submodule_search_locations)
    m.__package__ = name if spec.submodule_search_locations is not None \
        else name.rpartition(".")[0]
    sys.modules[name] = m
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, m)
    return True


if "neo" not in sys.modules:
    for _name in DEFERRED:
        defer(_name)
