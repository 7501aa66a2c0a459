"""The one part of pysocat that pyproject.toml cannot declare: the optional C packet pump
(pysocat/transfer/_pump.c). Where it does not compile (no compiler, no Python headers),
pysocat is installed without it and relays every packet in Python (pysocat.transfer.pump)."""
from setuptools import Extension, setup

setup(ext_modules=[Extension("pysocat.transfer._pump", ["pysocat/transfer/_pump.c"], optional=True,
                             extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"])])
