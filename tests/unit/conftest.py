"""Each unit test starts from minikeras's defaults: float32, the default kernels, fresh layer
names ('dense', 'dense_1', ...), whatever the test before it changed."""

import pytest

import minikeras
from minikeras import kernels


@pytest.fixture(autouse=True)
def fresh_defaults():
    floatx, kernel_set = minikeras.config.floatx(), kernels.current()
    minikeras.utils.clear_session()
    yield
    minikeras.config.set_floatx(floatx)
    kernels.use(kernel_set)
    minikeras.utils.clear_session()


@pytest.fixture
def float64():
    """Run the test with floatx = float64 (gradient checks need the precision)."""
    minikeras.config.set_floatx("float64")
    yield


@pytest.fixture(params=kernels.NAMES)
def kernel_set(request):
    """Run the test once with each kernel set ("numba", "numpy")."""
    kernels.use(request.param)
    return request.param
