"""Make `import pyNN.s2` find python/pyNN_s2 when this directory is on PYTHONPATH.

Python imports `usercustomize` at start-up (module `site`) from sys.path, so
PYTHONPATH=/path/to/s2/python is all a user needs. It installs a finder for the single
name `pyNN.s2`; nothing else is touched. Without it, `import pyNN_s2` also works and
registers itself as `pyNN.s2`.
"""
import importlib.abc
import importlib.util
import os
import sys

_HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pyNN_s2")


class _S2Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != "pyNN.s2":
            return None
        return importlib.util.spec_from_file_location(
            "pyNN.s2", os.path.join(_HERE, "__init__.py"), submodule_search_locations=[_HERE])


if not any(isinstance(f, _S2Finder) for f in sys.meta_path):
    sys.meta_path.append(_S2Finder())
