"""Build the compiled z-score kernel (kbtool/growth/_ckernel.c); everything else is in
pyproject.toml. The extension is optional: without a C compiler kbtool installs all the same and
computes z-scores with its numba kernel (kbtool.growth.zscores picks whichever is there)."""

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
        Extension("kbtool.growth._ckernel", ["kbtool/growth/_ckernel.c"], optional=True),
    ],
    cmdclass={"build_ext": BuildExt},
)
