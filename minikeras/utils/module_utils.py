"""Keras's `keras.src.utils.module_utils`: optional libraries imported at first use, so that
`import minikeras` never imports them (`module_utils.tensorflow.data.Dataset` imports
TensorFlow when that line runs)."""

import importlib


class LazyModule:
    """A module imported when one of its attributes is first asked for."""

    def __init__(self, name, pip_name=None, import_error_msg=None):
        self.name = name
        self.pip_name = pip_name or name
        self.import_error_msg = import_error_msg or (
            f"This requires the {name} module. You can install it via `pip install {self.pip_name}`"
        )
        self.module = None

    @property
    def available(self):
        """Whether the module can be imported (it is, if it can)."""
        try:
            self.initialize()
        except ImportError:
            return False
        return True

    def initialize(self):
        if self.module is None:
            try:
                self.module = importlib.import_module(self.name)
            except ImportError as error:
                raise ImportError(self.import_error_msg) from error

    def __getattr__(self, name):
        if name == "_api_export_path":  # asked by Keras's export machinery: not a module's
            raise AttributeError(name)
        self.initialize()
        return getattr(self.module, name)

    def __repr__(self):
        return f"LazyModule({self.name})"


tensorflow = LazyModule("tensorflow")
scipy = LazyModule("scipy")
jax = LazyModule("jax")
h5py = LazyModule("h5py")
# the libraries Keras's `keras.tree` can stand on; minikeras's tree is its own (tree_api.py),
# in optree's order: code that asks which one is there is answered as for Keras
optree = LazyModule("optree")
dmtree = LazyModule("tree", pip_name="dm-tree")
grain = LazyModule("grain", pip_name="grain")
