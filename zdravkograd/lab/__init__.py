"""The lab: train a network in the browser and watch backprop live (``zdravkograd lab``).

A local web server (Starlette + uvicorn, the ``lab`` extra: ``pip install "zdravkograd[lab]"``)
serves one page. Each browser tab gets its own ``Session``: a data set, an ``nn.MLP``, an
optimiser, trained by the engine in the server's process; the page draws the frames the
server streams (decision boundary, loss and accuracy, each hidden neuron's output, the
weights) and shows, for a clicked point, the step-by-step backward pass of its loss in the
viewer of ``viz.backprop_html``.

Importing this package needs only NumPy; ``create_app`` and the command need the extra.
"""

from zdravkograd.lab.session import LIMITS, LabError, Session, Settings

__all__ = ["LIMITS", "LabError", "Session", "Settings", "create_app"]


def create_app() -> object:
    """The lab's ASGI application (see ``zdravkograd.lab.server.create_app``)."""
    from zdravkograd.lab.server import create_app as _create_app

    return _create_app()
