"""Build the compiled fast engine (simulation/engine/stages/_cloop.pyx); everything else is in
pyproject.toml. The extension is optional: where it cannot be built, repatsim runs the same
engine in pure Python (simulation/engine/stages/loop.py), only slower."""

from Cython.Build import cythonize
from setuptools import Extension, setup

ENGINE = Extension(
    "simulation.engine.stages._cloop",
    ["simulation/engine/stages/_cloop.pyx"],
    optional=True,
)

setup(ext_modules=cythonize([ENGINE], language_level=3, quiet=True))
