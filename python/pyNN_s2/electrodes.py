"""Current sources of pyNN.s2 (docs/pynn.md, "Current sources"): DCSource, StepCurrentSource,
ACSource and NoisyCurrentSource travel in the network description ("current_sources",
docs/network.md) and are computed by the engine on the PEs, added to the neurons' i_offset
every step (docs/engine.md). The noise is drawn on the PE (its own stream, from the
network's seed): statistically, not sample for sample, what another simulator draws."""
import numpy as np
from pyNN import common
from pyNN.parameters import ParameterSpace, Sequence
from pyNN.standardmodels import electrodes, build_translations, StandardCurrentSource

from . import simulator


class _S2CurrentSource(StandardCurrentSource):
    s2_kind = None

    def __init__(self, **parameters):
        super(StandardCurrentSource, self).__init__(**parameters)
        object.__setattr__(self, "_targets", {})  # population -> set of indices
        object.__setattr__(self, "_native", {})
        ps = ParameterSpace(self.default_parameters, self.get_schema(), shape=(1,))
        ps.update(**parameters)
        self.set_native_parameters(self.translate(ps))
        state = simulator.state
        if not hasattr(state, "current_sources"):
            state.current_sources = []
        state.current_sources.append(self)

    def set_native_parameters(self, parameters):
        parameters.evaluate(simplify=True)
        for name, value in parameters.items():
            if isinstance(value, Sequence):
                value = value.value
            if isinstance(value, np.ndarray) and value.shape == (1,) and \
                    not isinstance(self.default_parameters.get(name), Sequence):
                value = value[0]
            self._native[name] = value

    def get_native_parameters(self):
        return ParameterSpace(dict(self._native), self.get_schema(), shape=(1,))

    def inject_into(self, cells):
        """Inject into a Population, PopulationView, Assembly or a list of IDs. A spike source
        takes no current: TypeError naming the source and the population."""
        if isinstance(cells, common.Assembly):
            for p in cells.populations:
                self.inject_into(p)
            return
        if isinstance(cells, (common.Population, common.PopulationView)):
            pop = getattr(cells, "grandparent", cells)
            self._check(pop)
            idx = np.asarray(cells.index_in_grandparent(np.arange(cells.size))) \
                if isinstance(cells, common.PopulationView) else np.arange(cells.size)
            self._targets.setdefault(pop, set()).update(int(i) for i in np.ravel(idx))
            return
        for cell in cells:
            pop = cell.parent
            self._check(pop)
            self._targets.setdefault(pop, set()).add(int(pop.id_to_index(cell)))

    def _check(self, pop):
        if not getattr(pop.celltype, "injectable", False) or \
                not getattr(pop.celltype, "s2_state", None):
            raise TypeError(
                "pyNN.s2: %s cannot inject current into population '%s' (%s): a spike source "
                "takes no current" % (type(self).__name__, pop.label,
                                      type(pop.celltype).__name__))

    def _s2_params(self):
        raise NotImplementedError

    def _s2_description(self):
        """One network-format current source per target population."""
        out = []
        for pop, idx in self._targets.items():
            d = {"population": pop._s2_label, "kind": self.s2_kind}
            if len(idx) != pop.size:
                d["neurons"] = sorted(idx)
            d.update(self._s2_params())
            out.append(d)
        return out

    def record(self):
        raise simulator.NotSupportedError(
            "pyNN.s2: recording the current of a %s" % type(self).__name__)


def _stop(x):
    return float(x) if float(x) < 1e11 else 0.0  # 0: never (PyNN's 1e12)


class DCSource(_S2CurrentSource, electrodes.DCSource):
    __doc__ = electrodes.DCSource.__doc__
    s2_kind = "dc"
    translations = build_translations(('amplitude', 'amplitude'), ('start', 'start'),
                                      ('stop', 'stop'))

    def _s2_params(self):
        n = self._native
        return {"amplitude_na": float(n["amplitude"]), "start_ms": float(n["start"]),
                "stop_ms": _stop(n["stop"])}


class ACSource(_S2CurrentSource, electrodes.ACSource):
    __doc__ = electrodes.ACSource.__doc__
    s2_kind = "ac"
    translations = build_translations(('amplitude', 'amplitude'), ('start', 'start'),
                                      ('stop', 'stop'), ('frequency', 'frequency'),
                                      ('offset', 'offset'), ('phase', 'phase'))

    def _s2_params(self):
        n = self._native
        return {"amplitude_na": float(n["amplitude"]), "start_ms": float(n["start"]),
                "stop_ms": _stop(n["stop"]), "frequency_hz": float(n["frequency"]),
                "offset_na": float(n["offset"]), "phase_deg": float(n["phase"])}


class StepCurrentSource(_S2CurrentSource, electrodes.StepCurrentSource):
    __doc__ = electrodes.StepCurrentSource.__doc__
    s2_kind = "step"
    translations = build_translations(('amplitudes', 'amplitudes'), ('times', 'times'))

    def set_native_parameters(self, parameters):
        _S2CurrentSource.set_native_parameters(self, parameters)
        t = np.asarray(self._native.get("times", []), dtype=float).ravel()
        a = np.asarray(self._native.get("amplitudes", []), dtype=float).ravel()
        if t.size != a.size:
            raise ValueError("pyNN.s2: StepCurrentSource: %d times and %d amplitudes"
                             % (t.size, a.size))
        if np.any(t < 0) or np.any(np.diff(t) <= 0):
            raise ValueError("pyNN.s2: StepCurrentSource: times must be >= 0 and increasing")

    def _s2_params(self):
        n = self._native
        return {"times_ms": [float(x) for x in np.ravel(n["times"])],
                "amplitudes_na": [float(x) for x in np.ravel(n["amplitudes"])]}


class NoisyCurrentSource(_S2CurrentSource, electrodes.NoisyCurrentSource):
    __doc__ = electrodes.NoisyCurrentSource.__doc__
    s2_kind = "noisy"
    translations = build_translations(('mean', 'mean'), ('start', 'start'), ('stop', 'stop'),
                                      ('stdev', 'stdev'), ('dt', 'dt'))

    def __init__(self, **parameters):
        parameters.pop("rng", None)  # drawn on the PEs from the network's seed
        _S2CurrentSource.__init__(self, **parameters)

    def _s2_params(self):
        n = self._native
        return {"mean_na": float(n["mean"]), "stdev_na": float(n["stdev"]),
                "start_ms": float(n["start"]), "stop_ms": _stop(n["stop"]),
                "interval_ms": float(n["dt"])}
