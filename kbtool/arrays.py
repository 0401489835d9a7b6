"""The numpy array types that kbtool's signatures name."""

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
# positions, child codes, days and months of a visit sequence: int32 halves their memory
Int32Array = npt.NDArray[np.int32]
IndexArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]
