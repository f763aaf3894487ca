"""Compiled kernels of the analysis hot path (Cython). Everything else about the package is in pyproject.toml.

Every ``analysis/_*.pyx`` becomes an extension module ``analysis._*``; pip builds them at install time
(`make install`: gcc and the Python headers, which scripts/install-system-deps.sh provides).
"""

from glob import glob

from Cython.Build import cythonize
from setuptools import Extension, setup

# -O2 (after Python's own flags, so it wins): the figures in docs/analysis.md were measured with it. No
# -march=native: an installed tree may be copied to another machine of the same architecture.
extensions = [
    Extension(path[:-4].replace("/", "."), [path], extra_compile_args=["-O2"])
    for path in sorted(glob("analysis/_*.pyx"))
]

setup(
    ext_modules=cythonize(
        extensions,
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True, "initializedcheck": False},
        quiet=True,
    )
)
