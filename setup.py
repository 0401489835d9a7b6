"""Build the compiled kernels: the z-scores (kbtool/growth/_ckernel.c) and the store's value hash
(kbtool/store/_chash.c); everything else is in pyproject.toml. The extensions are optional:
without a C compiler kbtool installs all the same and runs its numba kernels (kbtool.compiled)."""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class BuildExt(build_ext):
    """Per-compiler flags: optimise, and never fuse a*b+c into one rounding (R and numba don't)."""

    def build_extensions(self) -> None:
        if self.compiler.compiler_type == "msvc":
            flags = ["/O2", "/fp:precise"]
        else:
            flags = ["-O3", "-ffp-contract=off", "-fno-math-errno", "-std=c11"]
        for extension in self.extensions:
            extension.extra_compile_args = flags
        super().build_extensions()


setup(
    ext_modules=[
        Extension(
            "kbtool.growth._ckernel",
            ["kbtool/growth/_ckernel.c"],
            depends=["kbtool/_cbuffers.h"],
            optional=True,
        ),
        Extension(
            "kbtool.store._chash",
            ["kbtool/store/_chash.c"],
            depends=["kbtool/_cbuffers.h"],
            optional=True,
        ),
    ],
    cmdclass={"build_ext": BuildExt},
)
