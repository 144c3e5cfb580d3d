"""zdravkograd: a scalar-valued autograd engine and a small neural-network library.

>>> from zdravkograd import Value
>>> x = Value(3.0)
>>> (x * x).backward()
>>> x.grad
6.0
"""

# nn registers the classes a model file may name with serialization (which never imports
# nn), so importing any part of the package makes nn.load and serialization.load complete.
from zdravkograd import nn  # noqa: F401
from zdravkograd.autodiff import grad, gradcheck, gradients, value_and_grad
from zdravkograd.compiler import compile, compile_step
from zdravkograd.engine import Value, detect_anomaly, enable_grad, is_grad_enabled, no_grad
from zdravkograd.fastmode import fast
from zdravkograd.ops import define_op
from zdravkograd.trace import trace_backward

__version__ = "0.1.0"

__all__ = [
    "Value",
    "no_grad",
    "enable_grad",
    "detect_anomaly",
    "is_grad_enabled",
    "grad",
    "value_and_grad",
    "gradients",
    "gradcheck",
    "fast",
    "compile",
    "compile_step",
    "trace_backward",
    "define_op",
    "__version__",
]
