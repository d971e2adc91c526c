"""pyNN.s2: a PyNN 0.10 backend that runs networks on SpiNNaker2 through s2ctl (and a local
s2emu). See docs/pynn.md.
"""
import sys as _sys

if __name__ == "pyNN_s2":  # imported as pyNN_s2: also be pyNN.s2
    import pyNN as _pyNN
    _sys.modules.setdefault("pyNN.s2", _sys.modules[__name__])
    _pyNN.s2 = _sys.modules["pyNN.s2"]

import logging
from . import _deferred  # noqa: F401  (before pyNN: neo, quantities, ... on first use)
from pyNN import common, errors
from pyNN.common.control import DEFAULT_MAX_DELAY, DEFAULT_TIMESTEP, DEFAULT_MIN_DELAY
from pyNN.connectors import *  # noqa: F401,F403  (unsupported ones fail in Projection)
from pyNN.connectors import FixedProbabilityConnector
from pyNN import connectors as _connectors


class DistanceDependentProbabilityConnector(_connectors.DistanceDependentProbabilityConnector):
    __doc__ = _connectors.DistanceDependentProbabilityConnector.__doc__ + """
    pyNN.s2: `d_expression` may also be a callable of the distance (PyNN 0.10.1 documents it
    but its own __init__ evaluates every d_expression as a string); expanded on the host
    (docs/pynn.md, "Space, positions and distance")."""

    def __init__(self, d_expression, allow_self_connections=True, rng=None, safe=True,
                 callback=None):
        if isinstance(d_expression, str) or not callable(d_expression):
            _connectors.DistanceDependentProbabilityConnector.__init__(
                self, d_expression, allow_self_connections, rng, safe, callback)
            return
        _connectors.Connector.__init__(self, safe, callback)
        assert isinstance(allow_self_connections, bool) or allow_self_connections == 'NoMutual'
        self.d_expression = d_expression
        self.allow_self_connections = allow_self_connections
        self.distance_function = d_expression
        self.rng = _connectors._get_rng(rng)
from pyNN.recording import *  # noqa: F401,F403
from pyNN.random import NumpyRNG, RandomDistribution  # noqa: F401
from pyNN.random import NativeRNG as _NativeRNG


class NativeRNG(_NativeRNG):
    """The machine's own random numbers: connectors and distributed weights and delays are
    drawn on the PEs from the network's seed (setup(seed=...)) whatever RNG is given. What
    PyNN draws on the host with it (parameters, initial values, the sign of a weight when
    guessing the receptor) comes from a NumpyRNG with this seed."""

    def next(self, n=None, distribution=None, parameters=None, mask=None):
        if not hasattr(self, "_np"):
            self._np = NumpyRNG(seed=self.seed)
        return self._np.next(n, distribution, parameters, mask)
from pyNN.space import Space  # noqa: F401
from . import simulator
from .simulator import NotSupportedError, S2RunError, S2PartialResultError  # noqa: F401
from .standardmodels import IF_curr_exp, IF_cond_exp, Izhikevich, SpikeSourcePoisson, \
    SpikeSourceArray, StaticSynapse, IF_curr_alpha, IF_cond_alpha, IF_curr_delta, \
    EIF_cond_exp_isfa_ista, HH_cond_exp, IF_cond_exp_gsfa_grr, SpikeSourceGamma, \
    SpikeSourcePoissonRefractory
from .standardmodels import STDPMechanism, SpikePairRule, AdditiveWeightDependence, \
    MultiplicativeWeightDependence, Vogels2011Rule, TsodyksMarkramSynapse  # noqa: F401
from .populations import Population, PopulationView, Assembly
from .projections import Projection
from .electrodes import DCSource, ACSource, StepCurrentSource, NoisyCurrentSource  # noqa: F401

logger = logging.getLogger("PyNN")


def list_standard_models():
    return ["IF_curr_exp", "IF_cond_exp", "IF_curr_alpha", "IF_cond_alpha", "IF_curr_delta",
            "EIF_cond_exp_isfa_ista", "HH_cond_exp", "IF_cond_exp_gsfa_grr", "Izhikevich",
            "SpikeSourcePoisson", "SpikeSourceArray", "SpikeSourceGamma",
            "SpikeSourcePoissonRefractory"]


def setup(timestep=DEFAULT_TIMESTEP, min_delay=DEFAULT_MIN_DELAY, **extra_params):
    """extra parameters: machine (an s2 machine file; default: a local 1-board s2emu, started
    here and made ready by run()),
    seed (the network's seed, default 1), workdir (write the network's JSON there, for
    inspection: the run itself is in memory), allow_partial (default False: a run that did not
    complete on every board raises S2PartialResultError; True: read what it recorded, warn, and
    set pyNN.s2.simulator.state.partial to why), allow_slow (default False: a population of
    which one neuron's update takes more cycles than a PE has per timestep, for example AdEx or
    Izhikevich neurons at 0.01 ms, is refused; True: placed one neuron per PE, and the run is
    that many times slower than real time on a board: docs/mapping.md "Real-time budget")."""
    max_delay = extra_params.get('max_delay', DEFAULT_MAX_DELAY)
    check_timestep(timestep)
    if min_delay == 'auto':
        min_delay = timestep
    common.setup(timestep, min_delay, **extra_params)
    st = simulator.state
    st.clear()
    st.current_sources = []  # electrodes.py
    st.dt = timestep
    st.min_delay = min_delay
    st.max_delay = max_delay
    st.machine = extra_params.get("machine")
    st.seed = extra_params.get("seed", 1)
    st.workdir = extra_params.get("workdir")
    st.verbose = extra_params.get("verbose", False)
    st.allow_partial = bool(extra_params.get("allow_partial", False))
    st.allow_slow = bool(extra_params.get("allow_slow", False))
    if not st.machine:
        st.spawn_emulator()  # starts while the script builds its network (run() waits)
    return 0


# The engine's timestep: a whole number of microseconds in this range (pedata.h).
DT_US_MIN, DT_US_MAX = 10, 10000


def check_timestep(timestep):
    """Refuse a timestep the engine cannot run, naming it (docs/pynn.md)."""
    try:
        us = float(timestep) * 1000.0
    except (TypeError, ValueError):
        raise NotSupportedError("pyNN.s2: timestep %r is not a number of ms" % (timestep,))
    if not (DT_US_MIN <= us <= DT_US_MAX) or abs(us - round(us)) > 1e-6 * us:
        raise NotSupportedError(
            "pyNN.s2: timestep %g ms is not supported: the engine runs a whole number of "
            "microseconds from %g to %g ms (0.01, 0.025, 0.05, 0.1, 0.25, 1 ms, ...)"
            % (float(timestep), DT_US_MIN / 1000.0, DT_US_MAX / 1000.0))


def end(compatible_output=True):
    """Write any files requested with write_on_end and stop the emulator started by run()."""
    from pyNN.recording import get_io  # makes the file's directory, as other backends
    for (population, variables, filename) in simulator.state.write_on_end:
        population.write_data(get_io(filename), variables)
    simulator.state.write_on_end = []
    simulator.state.stop_emulator()


run, run_until = common.build_run(simulator)
run_for = run
reset = common.build_reset(simulator)
initialize = common.initialize
get_current_time, get_time_step, get_min_delay, get_max_delay, \
    num_processes, rank = common.build_state_queries(simulator)
create = common.build_create(Population)
connect = common.build_connect(Projection, FixedProbabilityConnector, StaticSynapse)
record = common.build_record(simulator)


def _unsupported(name, why, exc=NotSupportedError):
    """A stand-in for a PyNN class pyNN.s2 does not have: using it raises exc naming it."""
    def f(*a, **k):
        raise exc("pyNN.s2: %s is not supported (%s)" % (name, why))
    f.__name__ = name
    return f


_CELLS = "pyNN.s2 has " + ", ".join(list_standard_models())
for _name in ("IF_facets_hardware1", "EIF_cond_alpha_isfa_ista",
              "GIF_cond_exp", "SpikeSourceInhGamma"):
    globals()[_name] = _unsupported(_name, _CELLS, errors.NoModelAvailableError)
for _name in ("SimpleStochasticSynapse",
              "StochasticTsodyksMarkramSynapse", "MultiQuantalSynapse", "ElectricalSynapse",
              "AdditivePotentiationMultiplicativeDepression", "GutigWeightDependence"):
    globals()[_name] = _unsupported(
        _name, "pyNN.s2 has StaticSynapse, TsodyksMarkramSynapse and STDPMechanism with "
        "SpikePairRule or Vogels2011Rule and AdditiveWeightDependence or "
        "MultiplicativeWeightDependence")
del _name
