"""Start-up time of pyNN.s2 (docs/pynn.md, "Start-up and overhead"): modules that PyNN imports
when it is imported but that a script uses only for some of what it does are imported when
they are first used instead. Before pyNN is imported, this module puts a deferred module
for each of DEFERRED into sys.modules: a module object made from the real module's spec
(importlib.util.module_from_spec: the same __name__, __spec__, __file__, __path__ as the
real one), whose code has not run yet. The first time an attribute it does not have is
looked up (neo.Block, pq.ms, scipy.signal.resample, descriptions.render, dir()), the real
module's code runs in that same object (its loader's exec_module, as importlib.util.LazyLoader
does) and the object becomes an ordinary module: the one object, whole and unchanged, for
everyone who imported it before or after, so nothing behaves differently; only the cost moves
to where the module is needed, and a script that never needs it does not pay for it.

Unlike importlib.util.LazyLoader, an `import neo` statement does not load the module (in
CPython 3.11 it reads the module's __spec__, which the deferred module has; a LazyLoader
module loads on any attribute), and importing a submodule (`import neo.io`, `from neo.core
import Block`) loads the package first, as the import system does for an ordinary package
(_ParentFirst below): its __init__ runs before any of its submodules, in the usual order.

A module imported before pyNN.s2 is not touched, nor anything when the environment has
S2_PYNN_EAGER_IMPORTS=1. Nothing here can stop pyNN.s2 from importing: this relies on how
CPython imports (the import statement reads a module's __spec__, a ModuleType subclass can
become a plain module), so before deferring anything it defers a module made in memory and
checks that the import statement leaves it alone and its first attribute runs it once
(_self_test); if not, or if deferring one module fails in any way, the modules concerned are
imported as usual, when PyNN imports them (disabled() says why). An error of a deferred
module's code is raised where it is used; an AttributeError as an ImportError naming the
module (hasattr() and `from m import x` would otherwise take it for a missing name).
tests/pynn/test_pynn_deferred.py checks the mechanism on modules made for it;
tests/pynn/test_pynn_startup.py that `import pyNN.s2` does not import these modules and that
each works as usual when used.
"""
import importlib.machinery
import importlib.util
import os
import sys
import threading
import types

# Imported by PyNN when it is imported, used by a script only for some of what it does:
DEFERRED = (
    # neo (with neo.io and neo.rawio, their file formats, urllib, http.client, xml):
    # PyNN's recording module and standard models import it; used by get_data(),
    # write_data(), print_v() and current sources' recordings.
    "neo",
    # quantities (units for neo): PyNN's Recorder multiplies by pq.ms when a population is
    # created (pyNN_s2.recording keeps that time in ms instead, as a Quantity for PyNN's code
    # that reads it); used with neo.
    "quantities",
    # scipy.signal (and scipy.stats with it): neo imports it for AnalogSignal.downsample and
    # .resample.
    "scipy.signal",
    # pyNN.descriptions (jinja2 and its templates): describe().
    "pyNN.descriptions",
    # scipy.sparse.csgraph (with scipy.sparse.linalg and scipy.linalg): lazyarray, which PyNN
    # uses for every parameter, imports scipy.sparse, whose __init__ imports csgraph for its
    # users (`scipy.sparse.csgraph.shortest_path(...)`); nothing in PyNN uses it.
    "scipy.sparse.csgraph",
)

_lock = threading.RLock()
_pending = {}  # name -> (the deferred module, its __dict__ when it was made)


class _Deferred(types.ModuleType):
    """A module whose code has not run yet; it runs on the first lookup of an attribute the
    module does not have (or dir()), and the module then is an ordinary module."""

    def __getattr__(self, attr):
        try:
            _load(self)
        except AttributeError as e:  # of the module's code, not a missing name: say so
            raise ImportError("deferred module %r failed to load: %s" % (self.__name__, e),
                              name=self.__name__) from e
        if type(self) is _Deferred:  # not loaded (cannot happen): no endless recursion
            raise AttributeError("module %r has no attribute %r" % (self.__name__, attr))
        return getattr(self, attr)

    def __dir__(self):
        _load(self)
        return dir(self) if type(self) is not _Deferred else []


class _Loading(types.ModuleType):
    """A deferred module while its code runs: to that code (the thread running it) a plain
    module, whose missing attributes are missing; another thread waits until it has run (as
    an `import` of a module being imported by another thread does) and then looks again."""

    def __getattr__(self, attr):
        with _lock:  # the thread running the code holds it already
            loaded = type(self) is not _Loading
        if not loaded:
            raise AttributeError("module %r has no attribute %r" % (self.__name__, attr))
        return getattr(self, attr)

    def __dir__(self):
        with _lock:
            return types.ModuleType.__dir__(self)


def _load(module):
    """Run the deferred module's code in it (once; under a lock, for threads); attributes
    set on it meanwhile (by a script, or the import system's submodules) are kept. If its
    code fails, it leaves sys.modules as a failed import does, and the error is raised."""
    with _lock:
        name = module.__name__
        if module.__class__ is not _Deferred:
            return
        entry = _pending.pop(name, None)
        before = entry[1] if entry is not None and entry[0] is module else dict(module.__dict__)
        set_meanwhile = {k: v for k, v in module.__dict__.items()
                         if k not in before or before[k] is not v}
        module.__class__ = _Loading  # before its code: lookups during it are plain
        spec = module.__spec__
        spec._initializing = True
        try:
            spec.loader.exec_module(module)
            module.__dict__.update(set_meanwhile)
        except BaseException:
            if sys.modules.get(name) is module:
                del sys.modules[name]
            parent, _, child = name.rpartition(".")
            if parent and getattr(sys.modules.get(parent), child, None) is module:
                delattr(sys.modules[parent], child)
            raise
        finally:
            spec._initializing = False
            module.__class__ = types.ModuleType
        if not _pending and _ParentFirst.instance in sys.meta_path:
            sys.meta_path.remove(_ParentFirst.instance)


class _Existing:
    """The loader of a submodule that its package's code imported already (_ParentFirst):
    gives the import system that module and leaves it as it is."""

    def __init__(self, module):
        self.module, self.spec = module, module.__spec__

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        module.__spec__ = self.spec  # the import system set it to the spec made here


class _ParentFirst:
    """First on sys.meta_path while a deferred package has not run: importing one of its
    submodules runs the package's code first. If that imported the submodule already, the
    import system is given that module (taken out of sys.modules until the import system
    puts it back, so that it does not load the submodule a second time)."""
    instance = None

    def find_spec(self, fullname, path=None, target=None):
        packages = sorted(n for n in _pending if fullname.startswith(n + "."))
        if not packages or target is not None or fullname in sys.modules:
            return None
        for name in packages:  # outermost first
            entry = _pending.get(name)
            if entry is not None:
                _load(entry[0])
        module = sys.modules.get(fullname)
        if module is None:
            return None  # the package's code did not import it: found as usual
        del sys.modules[fullname]
        return importlib.machinery.ModuleSpec(fullname, _Existing(module))


_ParentFirst.instance = _ParentFirst()


def _find_spec(name):
    """The spec of module name, without importing its parent package if that is not imported
    yet (importlib.util.find_spec would, and run its code): found as the import system would,
    in the parent's __path__ (its grandparent is imported)."""
    parent = name.rpartition(".")[0]
    if not parent or parent in sys.modules:
        return importlib.util.find_spec(name)
    pspec = _find_spec(parent)
    if pspec is None or pspec.submodule_search_locations is None:
        return None
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        spec = find(name, pspec.submodule_search_locations) if find else None
        if spec is not None:
            return spec
    return None


def defer(name):
    """Put a deferred module for name into sys.modules (its parent package is set its
    attribute if imported; if not, it is not imported, but a package above it may be, to
    find the spec); nothing if it is imported already, cannot be found, deferring is
    switched off or does not work here (disabled()), or anything goes wrong: then name is
    imported as usual when something imports it.
    @return True if the deferred module was installed."""
    if name in sys.modules or _disabled is not None or os.environ.get("S2_PYNN_EAGER_IMPORTS"):
        return False
    try:
        spec = _find_spec(name)
        return spec is not None and _install(name, spec)
    except Exception:  # noqa: BLE001 -- whatever failed, the usual import is left to run
        return False


def _install(name, spec):
    """defer() of the module of spec, found; False if its loader cannot run it in a module
    made beforehand. Leaves nothing behind if it fails."""
    if spec.loader is None or not hasattr(spec.loader, "exec_module"):
        return False
    m = importlib.util.module_from_spec(spec)
    if type(m) is not types.ModuleType:  # a loader's own module type: not ours to change
        return False
    m.__class__ = _Deferred
    parent, _, child = name.rpartition(".")
    with _lock:
        try:
            _pending[name] = (m, dict(m.__dict__))
            sys.modules[name] = m
            if parent in sys.modules:
                setattr(sys.modules[parent], child, m)
            if _ParentFirst.instance not in sys.meta_path:
                sys.meta_path.insert(0, _ParentFirst.instance)
        except BaseException:
            _pending.pop(name, None)
            if sys.modules.get(name) is m:
                del sys.modules[name]
            if parent and getattr(sys.modules.get(parent), child, None) is m:
                delattr(sys.modules[parent], child)
            raise
    return True


class _ProbeLoader:
    """The loader of _self_test's module, made in memory: counts the runs of its code."""

    def __init__(self):
        self.runs = 0

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        self.runs += 1
        module.value = self.runs


def _self_test():
    """Whether deferring works in this interpreter, tried on a module made in memory: the
    import statement leaves it deferred, its first missing attribute runs its code once in
    the same object, which then is a plain module in sys.modules. Leaves nothing behind."""
    name = "_s2_deferred_self_test"
    loader = _ProbeLoader()
    try:
        if name in sys.modules or not _install(name, importlib.util.spec_from_loader(name,
                                                                                      loader)):
            return False
        m = __import__(name)  # what `import name` does when name is in sys.modules
        if type(m) is not _Deferred or loader.runs != 0:
            return False
        value = m.value
        return (value == 1 and loader.runs == 1 and m.value == 1
                and type(m) is types.ModuleType and sys.modules.get(name) is m)
    except Exception:  # noqa: BLE001 -- not working here, whatever the reason
        return False
    finally:
        with _lock:
            _pending.pop(name, None)
            sys.modules.pop(name, None)
            if not _pending and _ParentFirst.instance in sys.meta_path:
                sys.meta_path.remove(_ParentFirst.instance)


def pending():
    """The names of the deferred modules whose code has not run yet."""
    return sorted(_pending)


def disabled():
    """Why nothing is deferred in this process (a sentence), or None if deferring works."""
    if os.environ.get("S2_PYNN_EAGER_IMPORTS"):
        return "S2_PYNN_EAGER_IMPORTS is set"
    return _disabled


_disabled = None
if not os.environ.get("S2_PYNN_EAGER_IMPORTS") and not _self_test():
    _disabled = "deferring does not work in this Python (%s): modules imported as usual" % (
        sys.version.split()[0])
for _name in DEFERRED:
    defer(_name)
