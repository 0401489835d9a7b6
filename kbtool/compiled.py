"""Which compiled quality passes run: the C extension built when kbtool is installed, or numba.

kbtool.quality's passes exist as a C extension (kbtool/_cquality.c), built by setup.py at install,
and as numba kernels, compiled on first use. The extension is optional: without a C compiler
kbtool installs all the same and uses numba. `KBTOOL_KERNEL=c` or `numba` chooses; unset, the
extension is used where it was built.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

from kbtool.errors import KbtoolError

KERNELS = ("c", "numba")


class KernelUnavailableError(KbtoolError):
    """KBTOOL_KERNEL names a kernel this installation does not have."""


def wanted_kernel() -> str | None:
    """KBTOOL_KERNEL: "c", "numba", or None when unset (each extension where it was built)."""
    wanted = os.environ.get("KBTOOL_KERNEL", "").strip().lower()
    if wanted and wanted not in KERNELS:
        raise KernelUnavailableError(
            f"KBTOOL_KERNEL={wanted!r} is not a kernel; use one of {', '.join(KERNELS)}"
        )
    return wanted or None


def c_extension(module: str) -> ModuleType | None:
    """The C extension `module`, or None where the numba kernel runs instead (KBTOOL_KERNEL=numba,
    or the extension was not built); KBTOOL_KERNEL=c without it is an error."""
    wanted = wanted_kernel()
    if wanted == "numba":
        return None
    try:
        return importlib.import_module(module)
    except ImportError as err:
        if wanted == "c":
            raise KernelUnavailableError(
                f"KBTOOL_KERNEL=c, but the compiled kernel {module} was not built when kbtool "
                "was installed (no C compiler?); reinstall with one, or unset KBTOOL_KERNEL"
            ) from err
        return None
