"""Build configuration: the one place Cython is configured.

Every ``rtmcore/*.pyx`` file becomes the extension ``rtmcore.<name>``.
``RTMCORE_DEBUG=1`` turns on bounds checks, the C-level invariant checks
(``RTM_DEBUG``) and ``cython -a`` annotation output.
"""
import glob
import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("RTMCORE_DEBUG", "0") != "0"

directives = dict(
    language_level=3,
    boundscheck=DEBUG,
    wraparound=False,
    cdivision=True,
    initializedcheck=DEBUG,
    nonecheck=False,
    embedsignature=True,
)

# RTMCORE_ONLY=_core,_io builds only the named extensions (development convenience).
ONLY = {n for n in os.environ.get("RTMCORE_ONLY", "").split(",") if n}

extensions = []
for path in sorted(glob.glob(os.path.join("rtmcore", "*.pyx"))):
    stem = os.path.splitext(os.path.basename(path))[0]
    if ONLY and stem not in ONLY:
        continue
    name = "rtmcore." + stem
    extensions.append(
        Extension(
            name,
            [path],
            include_dirs=[numpy.get_include()],
            define_macros=[
                ("RTM_DEBUG", "1" if DEBUG else "0"),
                ("NPY_NO_DEPRECATED_API", "NPY_1_22_API_VERSION"),
            ],
            extra_compile_args=["-O0", "-g"] if DEBUG else ["-O3"],
        )
    )

setup(ext_modules=cythonize(extensions, compiler_directives=directives, annotate=DEBUG))
