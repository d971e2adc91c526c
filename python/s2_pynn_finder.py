"""Make `import pyNN.s2` find the package pyNN_s2 next to this module.

Debian's pyNN is a regular package, so a directory pyNN/s2 elsewhere on sys.path is not
found; this installs a finder for the single name `pyNN.s2` (nothing else is touched, and
pyNN is not imported until a script asks for pyNN.s2). It is loaded at Python start-up by
usercustomize.py (source tree, PYTHONPATH=/path/to/s2/python) or by s2_pynn.pth (installed
by `cmake --install` into the interpreter's dist-packages). Without it, `import pyNN_s2`
also works and registers itself as `pyNN.s2`.
"""
import importlib.util
import os
import sys

_HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pyNN_s2")


class _S2Finder:
    # A meta path finder is any object with find_spec (importlib.abc.MetaPathFinder only adds
    # an invalidate_caches that does nothing): not subclassing it spares every Python
    # start-up importing importlib.abc (with importlib.resources, pathlib, tempfile, ...).
    def find_spec(self, fullname, path, target=None):
        if fullname != "pyNN.s2":
            return None
        return importlib.util.spec_from_file_location(
            "pyNN.s2", os.path.join(_HERE, "__init__.py"), submodule_search_locations=[_HERE])


if not any(isinstance(f, _S2Finder) for f in sys.meta_path):
    sys.meta_path.append(_S2Finder())
