"""Populations of pyNN.s2: they hold parameters on the host and describe themselves in the
s2 network format (docs/network.md)."""
import contextlib

import numpy as np
from pyNN import common, errors
from pyNN.standardmodels import StandardCellType
from pyNN.parameters import ParameterSpace, simplify, Sequence
from pyNN.random import RandomDistribution
from . import simulator
from .simulator import NotSupportedError
from .recording import Recorder


@contextlib.contextmanager
def nudged(populations):
    """While inside: the initial values initialize()d since the last run (_s2_pending_init)
    one float32 step up, so that each differs from what the PEs hold (the engine sets a
    state value whose initial value changed: simulator.State._update)."""
    saved = []
    for p in populations:
        for var in p._s2_pending_init:
            a = p._s2_initial[var]
            saved.append((p, var, a))
            p._s2_initial[var] = np.nextafter(a.astype(np.float32), np.float32(np.inf)) \
                .astype(float)
    try:
        yield
    finally:
        for p, var, a in saved:
            p._s2_initial[var] = a


def _between_runs(pop, variable):
    """initialize() of variable on pop (its parent population): between runs the PEs set it
    at the next run(); the t = 0 sample of a recorded v stays the value the run began with."""
    if simulator.state.t > 0 and getattr(simulator.state, "_deployment", None) is not None:
        if variable == "v" and getattr(pop, "_s2_v0", None) is None:
            pop._s2_v0 = np.array(pop._s2_initial.get("v", np.full(pop.size, float(
                pop.celltype.default_initial_values["v"]))), dtype=float)
        pop._s2_pending_init.add(variable)


def _plain(values):
    """A parameter array as a network-format value: one number if all equal, else a float64
    array (one per neuron; a copy)."""
    a = np.asarray(values, dtype=float).ravel()
    if a.size and np.all(a == a[0]):
        return float(a[0])
    return a.copy()


class Assembly(common.Assembly):
    _simulator = simulator


class PopulationView(common.PopulationView):
    _assembly_class = Assembly
    _simulator = simulator

    def _get_parameters(self, *names):
        parameter_dict = {}
        for name in names:
            value = self.parent._parameters[name]
            if isinstance(value, np.ndarray):
                value = value[self.mask]
            parameter_dict[name] = simplify(value)
        return ParameterSpace(parameter_dict, shape=(self.size,))

    def _set_parameters(self, parameter_space):
        parameter_space.evaluate(simplify=False)
        for name, value in parameter_space.items():
            self.parent._parameters[name][self.mask] = value

    def _set_initial_value_array(self, variable, initial_values):
        self.parent._s2_check_state(variable)
        vals = initial_values.evaluate(simplify=False) if hasattr(initial_values, "evaluate") \
            else initial_values
        _between_runs(self.parent, variable)
        cur = self.parent._s2_initial.setdefault(
            variable, np.full(self.parent.size, float(
                self.parent.celltype.default_initial_values[variable])))
        cur[self.mask] = vals

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)


class Population(common.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def _create_cells(self):
        if not isinstance(self.celltype, StandardCellType) or \
                not hasattr(self.celltype, "s2_model"):
            raise errors.InvalidModelError(
                "pyNN.s2 supports the cell types IF_curr_exp, IF_cond_exp, IF_curr_alpha, "
                "IF_cond_alpha, IF_curr_delta, EIF_cond_exp_isfa_ista, Izhikevich, "
                "SpikeSourcePoisson and "
                "SpikeSourceArray, not %s" % type(self.celltype).__name__)
        id_range = np.arange(simulator.state.id_counter, simulator.state.id_counter + self.size)
        self.all_cells = np.array([simulator.ID(i) for i in id_range], dtype=simulator.ID)
        self._mask_local = np.ones((self.size,), bool)
        parameter_space = self.celltype.native_parameters
        parameter_space.shape = (self.size,)
        parameter_space.evaluate(mask=self._mask_local, simplify=False)
        self._parameters = parameter_space.as_dict()
        for i in self.all_cells:
            i.parent = self
        simulator.state.id_counter += self.size
        self._s2_index = len(simulator.state.populations)
        self._s2_label = "p%d" % self._s2_index
        self._s2_initial = {}
        self._s2_pending_init = set()  # initialize()d between runs, not yet sent
        self._s2_v0 = None  # v at t = 0 when initialize() changed it since
        simulator.state.populations.append(self)

    def inject(self, current_source):
        """Connect a current source to all cells (a spike source: TypeError naming both)."""
        current_source.inject_into(self)

    def _s2_check_state(self, variable):
        if variable not in self.celltype.s2_state:
            raise NotSupportedError(
                "pyNN.s2: initial value of '%s' is not supported for %s" %
                (variable, type(self.celltype).__name__))

    def _set_initial_value_array(self, variable, initial_values):
        if not self.celltype.s2_state:
            return  # spike sources have no state
        vals = initial_values.evaluate(simplify=False) if hasattr(initial_values, "evaluate") \
            else initial_values
        if variable in getattr(self.celltype, "s2_state_zero", ()) and \
                not np.any(np.asarray(vals, dtype=float)):
            return  # a state variable the engine starts at 0 (AdEx's w): 0 is fine
        fixed = getattr(self.celltype, "s2_state_fixed", {})
        if variable in fixed and np.all(np.asarray(vals, dtype=float) == fixed[variable]):
            return  # a state variable the engine starts at this value (HH's gates)
        self._s2_check_state(variable)
        _between_runs(self, variable)
        self._s2_initial[variable] = np.array(np.broadcast_to(
            np.asarray(vals, dtype=float), (self.size,)))

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)

    def _get_parameters(self, *names):
        return ParameterSpace({n: simplify(self._parameters[n]) for n in names},
                              shape=(self.local_size,))

    def _set_parameters(self, parameter_space):
        parameter_space.evaluate(simplify=False, mask=self._mask_local)
        for name, value in parameter_space.items():
            self._parameters[name] = value

    # -- the s2 description ---------------------------------------------------------------
    def _s2_description(self):
        d = {"label": self._s2_label, "size": int(self.size), "model": self.celltype.s2_model}
        draw = getattr(self.celltype, "s2_draw", None)
        if draw is not None:  # standardmodels.py: a renewal source drawn on the host
            p = {name: np.broadcast_to(np.asarray(value, dtype=float).ravel(), (self.size,))
                 for name, value in self._parameters.items()}
            self.celltype.s2_check(p, self.label)
            d["spike_times"] = draw(p, int(self.size), simulator.state.seed, self._s2_index,
                                    float(getattr(simulator.state, "s2_horizon", 0.0)))
            return d
        params = {}
        for name, value in self._parameters.items():
            if name == "spike_times":
                d["spike_times"] = [np.sort(np.asarray(
                    s.value if isinstance(s, Sequence) else s, dtype=float).ravel())
                    for s in value]
            else:
                params[name] = _plain(value)
        if params:
            d["params"] = params
        if self.celltype.s2_state:
            init = {}
            for var, native in self.celltype.s2_state.items():
                if var in self._s2_initial:
                    init[native] = _plain(self._s2_initial[var])
            if init:
                d["initial"] = init
        return d

    def _s2_recordings(self):
        out = []
        for variable, ids in self.recorder.recorded.items():
            if not ids:
                continue
            idx = sorted(int(i) for i in self.id_to_index(np.array(sorted(ids), dtype=int)).ravel()) \
                if len(ids) else []
            neurons = [] if len(idx) == self.size else idx
            if variable == "spikes":
                out.append({"population": self._s2_label, "variable": "spikes",
                            "neurons": neurons})
            else:  # a state variable the engine records (recording.py checked it)
                out.append({"population": self._s2_label,
                            "variable": self.celltype.s2_record[variable][0],
                            "neurons": neurons})
        return out
